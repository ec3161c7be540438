import { describe, expect, it } from '@jest/globals';

import { parseClusterDns, parseLabels, parseShard, parseTaints } from './node-agent.js';

describe('node-agent flags', () => {
  it('reads --node-labels as the kubelet does', () => {
    expect(parseLabels('a=1,b.example.com/c=x=y,empty=')).toEqual({
      a: '1',
      'b.example.com/c': 'x=y',
      empty: '',
    });
    expect(parseLabels(undefined)).toBeUndefined();
    expect(() => parseLabels('novalue')).toThrow(/--node-labels: want key=value/);
  });

  it('reads --register-with-taints as key[=value]:Effect', () => {
    expect(parseTaints('dedicated=gpu:NoSchedule,spot:PreferNoSchedule')).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
    expect(() => parseTaints('a=b:Sometimes')).toThrow(/NoSchedule\|PreferNoSchedule\|NoExecute/);
    expect(() => parseTaints('missing-effect')).toThrow(/--register-with-taints/);
  });

  it('reads --cluster-dns as a list of IP addresses', () => {
    expect(parseClusterDns('10.96.0.10')).toEqual(['10.96.0.10']);
    expect(parseClusterDns('10.96.0.10, fd00::a')).toEqual(['10.96.0.10', 'fd00::a']);
    expect(parseClusterDns(undefined)).toBeUndefined();
    expect(() => parseClusterDns('kube-dns')).toThrow(/--cluster-dns: want IP addresses/);
  });

  it('reads --shard as i/n with 0 <= i < n', () => {
    expect(parseShard('1/3')).toEqual({ index: 1, count: 3 });
    expect(parseShard(undefined)).toBeUndefined();
    expect(() => parseShard('3/3')).toThrow(/--shard: want i\/n/);
    expect(() => parseShard('x')).toThrow(/--shard/);
  });
});
