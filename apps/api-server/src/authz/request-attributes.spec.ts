import { describe, expect, it } from '@jest/globals';

import { requestAttributes } from './request-attributes.js';

const who = { user: 'jane', groups: [] };
const attrs = (method: string, url: string) => requestAttributes(who, method, url);

describe('requestAttributes (RequestInfoFactory)', () => {
  it('maps methods to verbs, nameless gets to list or watch, nameless deletes to deletecollection', () => {
    expect(attrs('GET', '/api/v1/namespaces/a/pods/p')).toMatchObject({
      verb: 'get',
      name: 'p',
      namespace: 'a',
    });
    expect(attrs('GET', '/api/v1/namespaces/a/pods')).toMatchObject({ verb: 'list', name: '' });
    expect(attrs('GET', '/api/v1/pods?watch=true')).toMatchObject({ verb: 'watch', namespace: '' });
    expect(attrs('GET', '/api/v1/watch/namespaces/a/pods')).toMatchObject({ verb: 'watch' });
    expect(attrs('POST', '/apis/apps/v1/namespaces/a/deployments')).toMatchObject({
      verb: 'create',
      apiGroup: 'apps',
      resource: 'deployments',
    });
    expect(attrs('PUT', '/apis/apps/v1/namespaces/a/deployments/d/scale')).toMatchObject({
      verb: 'update',
      subresource: 'scale',
    });
    expect(attrs('PATCH', '/api/v1/nodes/n/status')).toMatchObject({ verb: 'patch', namespace: '' });
    expect(attrs('DELETE', '/api/v1/namespaces/a/pods/p')).toMatchObject({ verb: 'delete' });
    expect(attrs('DELETE', '/api/v1/namespaces/a/pods')).toMatchObject({ verb: 'deletecollection' });
  });

  it('names the object a list or watch selects by metadata.name, as the kubelet’s secret watches rely on', () => {
    expect(
      attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Dtok&watch=1'),
    ).toMatchObject({
      verb: 'watch',
      name: 'tok',
    });
    expect(attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=type%3Dx')).toMatchObject({ name: '' });
    expect(
      attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=type%3Dx%2Cmetadata.name%3D%3Dtok'),
    ).toMatchObject({ verb: 'list', name: 'tok' });
    expect(attrs('GET', '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name!%3Dtok')).toMatchObject({
      name: '',
    });
    // A named get stays a get whatever its query says, as upstream reads it.
    expect(attrs('GET', '/api/v1/namespaces/a/secrets/tok?watch=true')).toMatchObject({
      verb: 'get',
      name: 'tok',
    });
  });

  it('puts a namespace’s own path in that namespace', () => {
    expect(attrs('GET', '/api/v1/namespaces/team')).toMatchObject({
      resource: 'namespaces',
      name: 'team',
      namespace: 'team',
    });
    expect(attrs('PUT', '/api/v1/namespaces/team/finalize')).toMatchObject({ subresource: 'finalize' });
  });

  it('reads other paths as non-resource requests with the method as the verb', () => {
    expect(attrs('GET', '/apis/apps/v1')).toEqual({
      ...who,
      resourceRequest: false,
      verb: 'get',
      path: '/apis/apps/v1',
    });
    expect(attrs('GET', '/metrics')).toMatchObject({ resourceRequest: false, path: '/metrics' });
  });
});
