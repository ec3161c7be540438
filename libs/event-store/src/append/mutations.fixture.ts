// Mutation builders shared by the append specs (test-only: excluded from the build with them).
import { type AuditContext, type ObjectKey, type StoredObject, SYSTEM_ACTOR } from '../model/index.js';
import { type Mutation, type Preconditions, type UpdateTo } from './mutation.js';

export const systemCtx: AuditContext = { actor: SYSTEM_ACTOR, verb: 'update' };

export const POD: ObjectKey = { group: '', resource: 'pods', namespace: 'default', name: 'web' };
export const NODE: ObjectKey = { group: '', resource: 'nodes', namespace: '', name: 'node-1' };
export const DEPLOY: ObjectKey = { group: 'apps', resource: 'deployments', namespace: 'prod', name: 'api' };

export const create = (key: ObjectKey, object: StoredObject, ctx: AuditContext = systemCtx): Mutation => ({
  op: 'create',
  key,
  object,
  ctx,
});

export const update = (key: ObjectKey, object: UpdateTo, preconditions?: Preconditions): Mutation => ({
  op: 'update',
  key,
  object,
  preconditions,
  ctx: systemCtx,
});

export const del = (key: ObjectKey, preconditions?: Preconditions): Mutation => ({
  op: 'delete',
  key,
  preconditions,
  ctx: systemCtx,
});
