import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** What a running `wake up` leaves in its data directory for `status` and `down`. */
export interface ClusterState {
  pid: number;
  startedAt: string;
  postgres: { url: string; pid?: number };
  nats: { url: string; pid?: number };
  relay: { pid?: number; log: string };
  apiServer: { pid?: number; url: string; kubeconfig: string; log: string };
  /** `url`: where its /metrics is served. */
  scheduler?: { pid?: number; url?: string; log: string };
  controllerManager?: { pid?: number; url?: string; log: string };
  nodeAgent?: { pid?: number; log: string; node: string };
  /** The service proxy of the Docker node (`url`: its /metrics; `ingress`: its ingress controller's URL). */
  proxy?: { pid?: number; url?: string; ingress?: string; log: string };
  checkpoints: { file: string; publicKey: string };
}

export class DataDir {
  readonly root: string;

  constructor(dir = process.env.WAKE_DATA_DIR ?? '.wake') {
    this.root = resolve(dir);
  }

  get postgresDir(): string {
    return join(this.root, 'postgres');
  }

  get natsDir(): string {
    return join(this.root, 'nats');
  }

  get checkpointDir(): string {
    return join(this.root, 'checkpoints');
  }

  /** The cluster CA, the API server's certificate and the token file. */
  get pkiDir(): string {
    return join(this.root, 'pki');
  }

  /** The admin kubeconfig `wake up` writes. */
  get kubeconfig(): string {
    return join(this.root, 'kubeconfig');
  }

  /** Where the API server writes the kubeconfigs of components that run as their own user. */
  get componentKubeconfigs(): string {
    return join(this.root, 'components');
  }

  get stateFile(): string {
    return join(this.root, 'state.json');
  }

  async create(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o755 });
  }

  readState(): ClusterState | undefined {
    if (!existsSync(this.stateFile)) return undefined;
    return JSON.parse(readFileSync(this.stateFile, 'utf8')) as ClusterState;
  }

  async writeState(state: ClusterState): Promise<void> {
    await writeFile(this.stateFile, `${JSON.stringify(state, null, 2)}\n`);
  }

  async clearState(): Promise<void> {
    await rm(this.stateFile, { force: true });
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
