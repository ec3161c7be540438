import { describe, expect, it } from '@jest/globals';

import { parseResourcePath } from './request-info.js';

describe('parseResourcePath', () => {
  it('reads core and group paths, scoped and not', () => {
    expect(parseResourcePath('/api/v1/namespaces/default/pods/web/log')).toEqual({
      group: '',
      version: 'v1',
      resource: 'pods',
      namespace: 'default',
      name: 'web',
      subresource: 'log',
      watchPrefix: false,
    });
    expect(parseResourcePath('/apis/apps/v1/deployments')).toMatchObject({
      group: 'apps',
      resource: 'deployments',
    });
    expect(parseResourcePath('/api/v1/pods')).toMatchObject({ resource: 'pods', namespace: undefined });
  });

  it('tells the namespace kind from a namespace scope', () => {
    expect(parseResourcePath('/api/v1/namespaces')).toMatchObject({
      resource: 'namespaces',
      name: undefined,
    });
    expect(parseResourcePath('/api/v1/namespaces/dev')).toMatchObject({
      resource: 'namespaces',
      name: 'dev',
    });
    expect(parseResourcePath('/api/v1/namespaces/dev/status')).toMatchObject({
      resource: 'namespaces',
      name: 'dev',
      subresource: 'status',
    });
    expect(parseResourcePath('/api/v1/namespaces/dev/configmaps')).toMatchObject({
      resource: 'configmaps',
      namespace: 'dev',
    });
  });

  it('accepts the legacy watch prefix and refuses what is not a resource path', () => {
    expect(parseResourcePath('/api/v1/watch/namespaces/a/pods')).toMatchObject({
      watchPrefix: true,
      namespace: 'a',
    });
    expect(parseResourcePath('/api/v1')).toBeUndefined();
    expect(parseResourcePath('/apis/apps')).toBeUndefined();
    expect(parseResourcePath('/api/v1/namespaces/a/pods/b/log/extra')).toBeUndefined();
  });
});
