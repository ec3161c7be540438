import { describe, expect, it } from '@jest/globals';
import { StatusError } from '@app/api';
import { StreamOpenError } from '@app/bus';
import { type StoredObject } from '@app/event-store';

import { podStreamLocation, withNodeRefusals } from './pod-streams.js';

const pod = (spec: object) => ({ metadata: { name: 'web' }, spec }) as unknown as StoredObject;
const names = (...n: string[]) => n.map((name) => ({ name }));

function refusal(f: () => unknown): { reason: string; message: string; code: number } {
  try {
    f();
  } catch (e) {
    if (e instanceof StatusError) return { reason: e.reason, message: e.message, code: e.code };
    throw e;
  }
  throw new Error('not refused');
}

describe('podStreamLocation', () => {
  it('takes the only container, or any named one (init and ephemeral too), and the node', () => {
    expect(podStreamLocation(pod({ nodeName: 'n1', containers: names('app') }), undefined)).toEqual({
      container: 'app',
      nodeName: 'n1',
    });
    const spec = {
      nodeName: 'n1',
      initContainers: names('init'),
      containers: names('app'),
      ephemeralContainers: names('debug'),
    };
    for (const c of ['init', 'app', 'debug'])
      expect(podStreamLocation(pod(spec), c)).toEqual({ container: c, nodeName: 'n1' });
  });

  it('refuses as ValidateContainer words it, before asking for the node', () => {
    const spec = {
      initContainers: names('init'),
      containers: names('a', 'b'),
      ephemeralContainers: names('d'),
    };
    expect(refusal(() => podStreamLocation(pod(spec), undefined))).toMatchObject({
      code: 400,
      message: 'a container name must be specified for pod web, choose one of: [init a b d]',
    });
    expect(refusal(() => podStreamLocation(pod({ containers: [] }), undefined)).message).toBe(
      'a container name must be specified for pod web',
    );
    expect(refusal(() => podStreamLocation(pod(spec), 'nope')).message).toBe(
      'container nope is not valid for pod web',
    );
    expect(refusal(() => podStreamLocation(pod(spec), 'a'))).toMatchObject({
      code: 400,
      message: 'pod web does not have a host assigned',
    });
  });
});

describe('withNodeRefusals', () => {
  const refused = (subresource: 'log' | 'exec', code: number) =>
    withNodeRefusals(subresource, 'web', () => Promise.reject(new StreamOpenError(code, 'why'))).catch(
      (e: StatusError) => ({ reason: e.reason, code: e.code, message: e.message }),
    );

  it('words a log refusal as the generic response checker does', async () => {
    expect(await refused('log', 400)).toEqual({ reason: 'BadRequest', code: 400, message: 'why' });
    expect(await refused('log', 404)).toMatchObject({
      reason: 'NotFound',
      message: 'the server could not find the requested resource ( pods/log web)',
    });
    expect(await refused('log', 500)).toMatchObject({ code: 500, message: 'Internal error occurred: why' });
    expect(await refused('log', 503)).toMatchObject({
      reason: 'ServiceUnavailable',
      code: 503,
      message: 'why',
    });
  });

  it('words an exec refusal as the failed upgrade kubectl printed', async () => {
    expect(await refused('exec', 404)).toMatchObject({
      reason: 'NotFound',
      message: 'unable to upgrade connection: why',
    });
    expect(await refused('exec', 500)).toMatchObject({
      code: 400,
      message: 'unable to upgrade connection: why',
    });
    expect(await refused('exec', 503)).toMatchObject({ reason: 'ServiceUnavailable', message: 'why' });
  });

  it('lets other failures through as they are', async () => {
    const other = new Error('boom');
    await expect(withNodeRefusals('exec', 'web', () => Promise.reject(other))).rejects.toBe(other);
  });
});
