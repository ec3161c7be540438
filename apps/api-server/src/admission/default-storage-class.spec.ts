import { describe, expect, it } from '@jest/globals';

import { type StoredObject } from '@app/event-store';

import { defaultStorageClass } from './default-storage-class.js';

const sc = (name: string, created: string, annotation?: string): StoredObject => ({
  metadata: {
    name,
    creationTimestamp: created,
    annotations: annotation ? { [annotation]: 'true' } : {},
  },
});

describe('defaultStorageClass (storageutil.GetDefaultClass)', () => {
  it('is undefined when no class is annotated default', () => {
    expect(defaultStorageClass([sc('a', '2026-01-01T00:00:00Z')])).toBeUndefined();
  });

  it('takes the class annotated default, with either spelling', () => {
    const beta = 'storageclass.beta.kubernetes.io/is-default-class';
    expect(
      defaultStorageClass([sc('a', '2026-01-01T00:00:00Z'), sc('b', '2026-01-01T00:00:00Z', beta)])?.metadata
        .name,
    ).toBe('b');
  });

  it('of several defaults takes the newest, then the first by name', () => {
    const ga = 'storageclass.kubernetes.io/is-default-class';
    const classes = [
      sc('old', '2026-01-01T00:00:00Z', ga),
      sc('new-b', '2026-02-01T00:00:00Z', ga),
      sc('new-a', '2026-02-01T00:00:00Z', ga),
    ];
    expect(defaultStorageClass(classes)?.metadata.name).toBe('new-a');
  });
});
