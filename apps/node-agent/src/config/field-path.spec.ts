import { describe, expect, it } from '@jest/globals';

import { type Pod } from '../api-types.js';
import { goQuote } from '@app/api';

import { extractFieldPathAsString, formatMap, podFieldValue } from './field-path.js';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'web', tier: 'front' },
    annotations: { 'example.com/note': 'say "hi"\n', b: 'x' },
  },
  spec: { nodeName: 'node-a', serviceAccountName: 'builder', containers: [] },
};
const addresses = { hostIPs: ['192.168.1.5', 'fd00::5'], podIPs: ['172.17.0.3', 'fd00::3'] };
const field = (fieldPath: string, apiVersion = 'v1') =>
  podFieldValue({ apiVersion, fieldPath }, pod, addresses);

describe('env fieldRef values (kubelet podFieldSelectorRuntimeValue)', () => {
  it.each([
    ['metadata.name', 'web'],
    ['metadata.namespace', 'shop'],
    ['metadata.uid', 'u-1'],
    ["metadata.labels['app']", 'web'],
    ["metadata.annotations['example.com/note']", 'say "hi"\n'],
    ["metadata.labels['missing']", ''],
    ['spec.nodeName', 'node-a'],
    ['spec.host', 'node-a'],
    ['spec.serviceAccountName', 'builder'],
    ['status.hostIP', '192.168.1.5'],
    ['status.hostIPs', '192.168.1.5,fd00::5'],
    ['status.podIP', '172.17.0.3'],
    ['status.podIPs', '172.17.0.3,fd00::3'],
    ['metadata.labels', 'app="web"\ntier="front"'],
  ])('%s → %j', (path, expected) => {
    expect(field(path)).toBe(expected);
  });

  it('refuses what upstream refuses, with its messages', () => {
    expect(() => field('metadata.name', 'v2')).toThrow('unsupported pod version: v2');
    expect(() => field('spec.containers')).toThrow('field label not supported: spec.containers');
    expect(() => field("spec.nodeName['x']")).toThrow(
      "field label does not support subscript: spec.nodeName['x']",
    );
    expect(() => field('spec.restartPolicy')).toThrow('unsupported fieldPath: spec.restartPolicy');
    expect(() => field("metadata.labels['-bad-']")).toThrow(
      "invalid key subscript in metadata.labels['-bad-']",
    );
  });

  it('fails status.hostIP while the node has no address', () => {
    expect(() => podFieldValue({ fieldPath: 'status.hostIP' }, pod, { hostIPs: [], podIPs: [] })).toThrow(
      'host IP unknown',
    );
    expect(podFieldValue({ fieldPath: 'status.podIP' }, pod, { hostIPs: [], podIPs: [] })).toBe('');
  });
});

describe('downward API files (fieldpath.ExtractFieldPathAsString and FormatMap)', () => {
  it('renders label and annotation maps as sorted, Go-quoted lines without a trailing newline', () => {
    expect(extractFieldPathAsString(pod, 'metadata.annotations')).toBe(
      'b="x"\nexample.com/note="say \\"hi\\"\\n"',
    );
    expect(formatMap({})).toBe('');
  });

  it('quotes as Go’s %q does', () => {
    expect(goQuote('a\tb\\c\u0001\u007f é')).toBe('"a\\tb\\\\c\\x01\\x7f é"');
  });
});
