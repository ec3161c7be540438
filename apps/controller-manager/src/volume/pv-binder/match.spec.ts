import { describe, expect, it } from '@jest/globals';

import { type LabelSelectorObject } from '@app/api';

import { type PersistentVolume, type PersistentVolumeClaim } from '../volume-types.js';
import { findBestMatchForClaim, volumeUnsatisfiedReason } from './match.js';

const pv = (
  name: string,
  size: string,
  o: {
    modes?: string[];
    class?: string;
    labels?: Record<string, string>;
    phase?: string;
    claimRef?: { namespace: string; name: string; uid?: string };
    volumeMode?: string;
    deleting?: boolean;
  } = {},
): PersistentVolume => ({
  metadata: {
    name,
    labels: o.labels,
    ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: {
    capacity: { storage: size },
    accessModes: o.modes ?? ['ReadWriteOnce'],
    storageClassName: o.class,
    claimRef: o.claimRef,
    volumeMode: o.volumeMode,
    hostPath: { path: `/tmp/${name}` },
  },
  status: { phase: o.phase ?? 'Available' },
});

const pvc = (
  size: string,
  o: {
    modes?: string[];
    class?: string;
    selector?: LabelSelectorObject;
    volumeMode?: string;
  } = {},
): PersistentVolumeClaim => ({
  metadata: { name: 'claim', namespace: 'ns', uid: 'uid-1' },
  spec: {
    accessModes: o.modes ?? ['ReadWriteOnce'],
    resources: { requests: { storage: size } },
    storageClassName: o.class,
    selector: o.selector,
    volumeMode: o.volumeMode,
  },
});

const pick = (claim: PersistentVolumeClaim, volumes: PersistentVolume[], delay = false) =>
  findBestMatchForClaim(claim, volumes, delay)?.metadata.name;

// Cases after pkg/controller/volume/persistentvolume/index_test.go (TestMatchVolume,
// TestFindingVolumeWithDifferentAccessModes, TestFindingPreboundVolumes, volume modes).
describe('findBestMatchForClaim', () => {
  const pool = [pv('gce-1', '1Gi'), pv('gce-5', '5Gi'), pv('gce-10', '10Gi'), pv('gce-20', '20Gi')];

  it('takes the smallest volume whose capacity covers the request', () => {
    expect(pick(pvc('8Gi'), pool)).toBe('gce-10');
    expect(pick(pvc('5Gi'), pool)).toBe('gce-5');
    expect(pick(pvc('1'), pool)).toBe('gce-1');
  });

  it('finds nothing when every volume is too small', () => {
    expect(pick(pvc('30Gi'), pool)).toBeUndefined();
  });

  it('compares quantities across units (1Gi > 1G)', () => {
    expect(pick(pvc('1G'), [pv('a', '1Gi'), pv('b', '999M')])).toBe('a');
  });

  it('prefers a volume pre-bound to the claim over a smaller free one', () => {
    const prebound = pv('big', '20Gi', { claimRef: { namespace: 'ns', name: 'claim' } });
    expect(pick(pvc('1Gi'), [...pool, prebound])).toBe('big');
    const withUid = pv('big', '20Gi', { claimRef: { namespace: 'ns', name: 'claim', uid: 'uid-1' } });
    expect(pick(pvc('1Gi'), [...pool, withUid])).toBe('big');
  });

  it('skips volumes claimed by another claim (other name, or same name and another uid)', () => {
    const other = pv('other', '1Gi', { claimRef: { namespace: 'ns', name: 'someone' } });
    const recreated = pv('old', '1Gi', { claimRef: { namespace: 'ns', name: 'claim', uid: 'uid-0' } });
    expect(pick(pvc('1Gi'), [other, recreated, pv('free', '2Gi')])).toBe('free');
  });

  it('matches the storage class exactly ("" only matches "")', () => {
    const volumes = [pv('plain', '1Gi'), pv('fast', '2Gi', { class: 'fast' })];
    expect(pick(pvc('1Gi', { class: 'fast' }), volumes)).toBe('fast');
    expect(pick(pvc('1Gi'), volumes)).toBe('plain');
    expect(pick(pvc('1Gi', { class: 'slow' }), volumes)).toBeUndefined();
  });

  it("honours the claim's label selector", () => {
    const volumes = [
      pv('a', '1Gi', { labels: { tier: 'gold' } }),
      pv('b', '5Gi', { labels: { tier: 'silver' } }),
    ];
    expect(pick(pvc('1Gi', { selector: { matchLabels: { tier: 'silver' } } }), volumes)).toBe('b');
    expect(
      pick(
        pvc('1Gi', { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold'] }] } }),
        volumes,
      ),
    ).toBe('a');
    expect(pick(pvc('1Gi', { selector: { matchLabels: { tier: 'bronze' } } }), volumes)).toBeUndefined();
  });

  it('matches volumeMode, both defaulting to Filesystem', () => {
    const volumes = [pv('fs', '1Gi'), pv('block', '2Gi', { volumeMode: 'Block' })];
    expect(pick(pvc('1Gi', { volumeMode: 'Block' }), volumes)).toBe('block');
    expect(pick(pvc('1Gi', { volumeMode: 'Filesystem' }), volumes)).toBe('fs');
  });

  it('looks at the volumes with the fewest access modes that still cover the claim first', () => {
    const volumes = [
      pv('all-modes', '1Gi', { modes: ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany'] }),
      pv('rwo-only', '10Gi', { modes: ['ReadWriteOnce'] }),
    ];
    expect(pick(pvc('1Gi'), volumes)).toBe('rwo-only');
    expect(pick(pvc('1Gi', { modes: ['ReadWriteMany'] }), volumes)).toBe('all-modes');
    expect(pick(pvc('1Gi', { modes: ['ReadWriteOncePod'] }), volumes)).toBeUndefined();
  });

  it('leaves volumes that are not Available, or are being deleted', () => {
    const volumes = [
      pv('pending', '1Gi', { phase: 'Pending' }),
      pv('released', '1Gi', { phase: 'Released' }),
    ];
    expect(pick(pvc('1Gi'), [...volumes, pv('deleting', '1Gi', { deleting: true })])).toBeUndefined();
    expect(pick(pvc('1Gi'), [...volumes, pv('ok', '3Gi')])).toBe('ok');
  });

  it('with delayed binding takes only a pre-bound volume', () => {
    expect(pick(pvc('1Gi'), pool, true)).toBeUndefined();
    const prebound = pv('pre', '1Gi', { claimRef: { namespace: 'ns', name: 'claim' } });
    expect(pick(pvc('1Gi'), [...pool, prebound], true)).toBe('pre');
  });
});

describe('volumeUnsatisfiedReason (checkVolumeSatisfyClaim)', () => {
  it('says why a named volume does not fit', () => {
    expect(volumeUnsatisfiedReason(pv('a', '1Gi'), pvc('1Gi'))).toBeUndefined();
    expect(volumeUnsatisfiedReason(pv('a', '1Gi'), pvc('2Gi'))).toBe('requested PV is too small');
    expect(volumeUnsatisfiedReason(pv('a', '1Gi', { class: 'x' }), pvc('1Gi'))).toBe(
      'storageClassName does not match',
    );
    expect(volumeUnsatisfiedReason(pv('a', '1Gi', { volumeMode: 'Block' }), pvc('1Gi'))).toBe(
      'incompatible volumeMode',
    );
    expect(volumeUnsatisfiedReason(pv('a', '1Gi'), pvc('1Gi', { modes: ['ReadWriteMany'] }))).toBe(
      'incompatible accessMode',
    );
  });
});
