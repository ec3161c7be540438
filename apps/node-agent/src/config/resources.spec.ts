import { describe, expect, it } from '@jest/globals';

import { type Container, type Pod } from '../api-types.js';
import { containerResources, milliCpuToQuota, milliCpuToShares, resourceFieldValue } from './resources.js';

describe('CPU and memory in the engine’s units (pkg/kubelet/cm/helpers_linux.go)', () => {
  it.each([
    [0, 0],
    [5, 1000],
    [9, 1000],
    [10, 1000],
    [200, 20000],
    [500, 50000],
    [1000, 100000],
    [1500, 150000],
  ])('MilliCPUToQuota(%i) = %i over a 100000 µs period (upstream TestMilliCPUToQuota)', (milli, quota) => {
    expect(milliCpuToQuota(milli)).toBe(quota);
  });

  it.each([
    [0, 2],
    [1, 2],
    [2, 2],
    [100, 102],
    [250, 256],
    [1000, 1024],
    [4000, 4096],
    [10_000_000, 262144],
  ])('MilliCPUToShares(%i) = %i (at least 2, at most 262144)', (milli, shares) => {
    expect(milliCpuToShares(milli)).toBe(shares);
  });

  const c = (resources: Container['resources']): Container => ({ name: 'c', image: 'i', resources });

  it('maps a request and limits: shares, quota with its period, memory bytes', () => {
    expect(
      containerResources(c({ requests: { cpu: '250m' }, limits: { cpu: '500m', memory: '64Mi' } })),
    ).toEqual({
      cpuShares: 256,
      cpuQuota: 50000,
      cpuPeriod: 100000,
      memoryBytes: 67108864,
    });
  });

  it('requests a limited but unrequested CPU at its limit, as API defaulting did', () => {
    expect(containerResources(c({ limits: { cpu: '2' } }))).toEqual({
      cpuShares: 2048,
      cpuQuota: 200000,
      cpuPeriod: 100000,
    });
  });

  it('gives a container with nothing requested the minimum shares and no limits (BestEffort)', () => {
    expect(containerResources(c(undefined))).toEqual({ cpuShares: 2 });
    expect(containerResources(c({ requests: { memory: '1Gi' } }))).toEqual({ cpuShares: 2 });
  });
});

describe('resourceFieldRef values (ExtractContainerResourceValue with node-allocatable limits)', () => {
  const main: Container = {
    name: 'main',
    image: 'i',
    resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { memory: '64Mi' } },
  };
  const side: Container = { name: 'side', image: 'i', resources: { limits: { cpu: '1500m' } } };
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: [main, side] },
  };
  const allocatable = { cpu: '4', memory: '8Gi', 'ephemeral-storage': '100Gi' };
  const value = (resource: string, o: { divisor?: string; containerName?: string } = {}) =>
    resourceFieldValue({ resource, ...o }, pod, main, allocatable);

  it('reads requests and limits, rounding CPU up to whole divisors', () => {
    expect(value('requests.cpu')).toBe('1');
    expect(value('requests.cpu', { divisor: '1m' })).toBe('250');
    expect(value('requests.memory')).toBe(String(32 * 1024 * 1024));
    expect(value('limits.memory', { divisor: '1Mi' })).toBe('64');
    expect(value('limits.memory', { divisor: '1k' })).toBe(String(Math.ceil((64 * 1024 * 1024) / 1000)));
  });

  it('reads an unset limit as the node’s allocatable, and an unset request as 0', () => {
    expect(value('limits.cpu')).toBe('4');
    expect(value('limits.ephemeral-storage', { divisor: '1Gi' })).toBe('100');
    expect(value('requests.ephemeral-storage')).toBe('0');
  });

  it('reads another container by name, its requests defaulted from its limits', () => {
    expect(value('requests.cpu', { containerName: 'side', divisor: '1m' })).toBe('1500');
    expect(value('limits.memory', { containerName: 'side', divisor: '1Gi' })).toBe('8');
  });

  it('refuses resources it does not know', () => {
    expect(() => value('limits.gpu')).toThrow('unsupported container resource : limits.gpu');
    expect(() => value('cpu')).toThrow('unsupported container resource : cpu');
  });
});
