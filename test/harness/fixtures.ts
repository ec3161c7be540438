/** Request bodies the API tests send again and again: one definition each. */

export const configMapBody = (
  name: string,
  data: Record<string, string> = {},
  meta: Record<string, unknown> = {},
) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...meta },
  data,
});

/** `replicas` is whatever the test sends (bad-input sends non-numbers on purpose). */
export const deploymentBody = (name: string, replicas: unknown = 1) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] },
    },
  },
});
