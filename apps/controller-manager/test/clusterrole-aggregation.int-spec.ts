import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

import { waitFor } from '@app/dev-servers';
import { type ApiCluster, startApiCluster } from '@app/testing/api-cluster.js';

type Rule = { verbs: string[]; apiGroups?: string[]; resources?: string[] };
type ClusterRole = { metadata: { name: string; resourceVersion: string }; rules?: Rule[] };

const RBAC = '/apis/rbac.authorization.k8s.io/v1';
const widgets: Rule = { verbs: ['get', 'list', 'watch'], apiGroups: ['example.com'], resources: ['widgets'] };
const gadgets: Rule = { verbs: ['create'], apiGroups: ['example.com'], resources: ['gadgets'] };

/**
 * The ClusterRole aggregation controller through the real API server, log and bus: a role
 * labelled to aggregate into `view` reaches view, edit and admin (each aggregates the next),
 * leaves them when deleted, and a role of one's own aggregates by matchExpressions, in name order.
 */
describe('ClusterRole aggregation controller', () => {
  let cluster: ApiCluster;

  beforeAll(async () => {
    cluster = await startApiCluster({ controllers: ['clusterrole-aggregation'] });
  });
  afterAll(async () => {
    await Promise.allSettled([cluster?.close()]);
  });

  const rulesOf = async (name: string) =>
    (await cluster.ok<ClusterRole>('GET', `${RBAC}/clusterroles/${name}`)).rules ?? [];
  const has = (rules: Rule[], rule: Rule) => rules.some((r) => JSON.stringify(r) === JSON.stringify(rule));

  it('takes a role labelled aggregate-to-view into view, edit and admin, and drops it when it goes', async () => {
    const before = await rulesOf('view');
    await cluster.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'widget-viewer', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [widgets],
    });
    for (const role of ['view', 'edit', 'admin'])
      await waitFor(`${role} to take in the widget rule`, async () =>
        has(await rulesOf(role), widgets) ? true : undefined,
      );
    // Appended after what view already had, which stays as it was.
    expect(await rulesOf('view')).toEqual([...before, widgets]);

    expect((await cluster.api('DELETE', `${RBAC}/clusterroles/widget-viewer`)).status).toBe(200);
    for (const role of ['view', 'edit', 'admin'])
      await waitFor(`${role} to drop the widget rule`, async () =>
        has(await rulesOf(role), widgets) ? undefined : true,
      );
    expect(await rulesOf('view')).toEqual(before);
  });

  it('aggregates by matchExpressions too, in name order, each rule once, and puts back a hand edit', async () => {
    await cluster.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'z-gadgets', labels: { tier: 'gold' } },
      rules: [gadgets, widgets],
    });
    await cluster.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'a-widgets', labels: { tier: 'silver' } },
      rules: [widgets],
    });
    await cluster.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'bronze', labels: { tier: 'bronze' } },
      rules: [gadgets],
    });
    await cluster.ok('POST', `${RBAC}/clusterroles`, {
      metadata: { name: 'precious' },
      aggregationRule: {
        clusterRoleSelectors: [
          { matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] },
        ],
      },
    });
    const wanted = [widgets, gadgets];
    await waitFor('precious to aggregate', async () =>
      JSON.stringify(await rulesOf('precious')) === JSON.stringify(wanted) ? true : undefined,
    );
    const current = await cluster.ok<ClusterRole>('GET', `${RBAC}/clusterroles/precious`);
    await cluster.ok('PUT', `${RBAC}/clusterroles/precious`, { ...current, rules: [] });
    await waitFor('precious to be aggregated again', async () =>
      JSON.stringify(await rulesOf('precious')) === JSON.stringify(wanted) ? true : undefined,
    );
  });
});
