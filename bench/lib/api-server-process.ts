import { join } from 'node:path';

import { readKubeconfig } from '@app/client';

import {
  type ComponentWithUser,
  componentKubeconfigPath,
} from '../../apps/api-server/src/auth/component-users.js';
import { READY_LINE } from '../../apps/api-server/src/run-api-server.js';
import { startComponent } from './component-process.js';

/** `wake apiserver` in its own process, as `wake up` runs it; the bench talks to it over HTTPS. */
export interface ApiServerProcess {
  url: string;
  caCert: string;
  token: string;
  /** The admin kubeconfig the server wrote (what other components are given). */
  kubeconfig: string;
  /** A component's kubeconfig (its own user, see COMPONENT_USERS), as `wake up` gives it. */
  componentKubeconfig(component: ComponentWithUser): string;
  pid: number;
  stop(): Promise<void>;
}

export async function startApiServerProcess(
  databaseUrl: string,
  natsUrl: string,
  pkiDir: string,
): Promise<ApiServerProcess> {
  const kubeconfig = join(pkiDir, 'kubeconfig');
  const components = join(pkiDir, 'components');
  const component = await startComponent(
    'API server',
    [
      'apiserver',
      '--database-url',
      databaseUrl,
      '--nats-url',
      natsUrl,
      '--pki-dir',
      pkiDir,
      '--port',
      '0',
      '--kubeconfig',
      kubeconfig,
      '--component-kubeconfigs',
      components,
    ],
    READY_LINE,
  );
  // The server writes its kubeconfig before it says it listens: the bench reads what clients read.
  const { server: url, caCert, token } = await readKubeconfig(kubeconfig);
  return {
    url,
    caCert,
    token,
    kubeconfig,
    componentKubeconfig: (component) => componentKubeconfigPath(components, component),
    pid: component.pid,
    stop: () => component.stop(),
  };
}
