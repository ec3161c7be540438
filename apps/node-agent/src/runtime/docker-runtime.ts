import type { Duplex, Readable } from 'node:stream';

import { Inject, Injectable } from '@nestjs/common';
import type Docker from 'dockerode';

import { ImageList } from './image-list.js';
import { demuxLogs, FrameDecoder, logLines, type LogLine } from './log-frames.js';
import {
  containerLabels,
  containerName,
  LABELS,
  type ContainerType,
  type PodRef,
  sandboxLabels,
  sandboxName,
} from './naming.js';

export const DOCKER_CLIENT = Symbol('DOCKER_CLIENT');
export const RUNTIME_CONFIG = Symbol('RUNTIME_CONFIG');

export interface RuntimeConfig {
  /** Labels every container this runtime makes (`wake.dev/cluster`); listings see only these. */
  clusterId: string;
  /** The sandbox image, e.g. the locally built `wake/pause:<hash>`. */
  pauseImage: string;
  /**
   * The container the agent runs in, when it runs in one beside its pods (docker-compose): its
   * namespaces are this node's, so host-network, hostPID and hostIPC pods join them instead of
   * the engine host's, as a kind node's pods join the node container's.
   */
  nodeContainer?: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** Replaces the image's ENTRYPOINT (Kubernetes' `command`). */
  command?: string[];
  /** Replaces the image's CMD (Kubernetes' `args`). */
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  /** Host paths bind-mounted into the container (volumes, the termination-log file, ...). */
  mounts?: BindMount[];
  /** requests/limits in the engine's units (see the config module for the mapping). */
  resources?: ContainerResources;
  /** Extra labels beside the naming ones, e.g. the container hash and restart count. */
  labels?: Record<string, string>;
  /** Whose PID namespace it joins; none: its own. */
  pid?: PidNamespace;
  tty?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  /** Run as this user (`uid[:gid]`), from the security context. */
  user?: string;
}

/** The sandbox's resolver settings, written by the engine into its /etc/resolv.conf (which app containers share). */
export interface SandboxDns {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface BindMount {
  hostPath: string;
  containerPath: string;
  readOnly?: boolean;
}

export interface ContainerResources {
  /** CPU request → relative weight (the kubelet: milliCPU * 1024 / 1000, at least 2). */
  cpuShares?: number;
  /** CPU limit → CFS quota per period, in microseconds. */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** Memory limit in bytes. */
  memoryBytes?: number;
}

export interface RuntimeContainer {
  id: string;
  name: string;
  type: ContainerType;
  pod: PodRef;
  /** The app container's name in the pod; undefined for a sandbox. */
  containerName?: string;
  sandboxId?: string;
  image: string;
  /** The engine's state word: created, running, exited, ... */
  state: string;
  labels: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  running: boolean;
  exitCode?: number;
  oomKilled: boolean;
  /** Set by the engine when the container could not be started. */
  error?: string;
  startedAt?: Date;
  finishedAt?: Date;
  /** The sandbox's pod IP on the engine's network; app containers share it. */
  ipAddress?: string;
  /** In the host's network namespace (a hostNetwork pod's sandbox): no address of its own. */
  hostNetwork?: boolean;
}

/**
 * A PID namespace to join: the node's (hostPID), the sandbox's (shareProcessNamespace), or
 * another container's (an ephemeral container's target).
 */
export type PidNamespace = { of: 'node' } | { of: 'sandbox' } | { of: 'container'; id: string };

/** How a pod's sandbox is made: its resolver, and the host namespaces the pod asks for. */
export interface SandboxOptions {
  /** The resolver settings; undefined: the engine's default (the host's). */
  dns?: SandboxDns;
  /** The host's network namespace (and its name, as the kubelet leaves hostname unset). */
  hostNetwork?: boolean;
  /** The host's PID namespace, which the pod's containers then join. */
  hostPID?: boolean;
  /** The host's IPC namespace, which the pod's containers join with the sandbox's. */
  hostIPC?: boolean;
  /** The node's ports forwarded to the pod's (its containers' hostPorts). */
  portMappings?: PortMapping[];
}

/** A containerPort published on the node (ContainerPort.hostPort, hostIP). */
export interface PortMapping {
  containerPort: number;
  hostPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** The node address it is bound to; none: all of them. */
  hostIP?: string;
}

export interface ExecResult {
  /** undefined when the command did not finish within the timeout. */
  exitCode?: number;
  /** stdout and stderr interleaved, as the kubelet's exec prober reads them. */
  output: string;
  timedOut: boolean;
}

export interface LogOptions {
  timestamps?: boolean;
  /** Only the last this many lines. */
  tail?: number;
  /** Only lines logged at or after this time. */
  since?: Date;
}

/**
 * What the node agent asks of the container engine, over dockerode, in the dockershim's
 * shape: a pod is a pause sandbox holding the network and IPC namespaces, and app containers
 * join it. No pod lifecycle logic lives here; the agent decides, this only does.
 */
@Injectable()
export class DockerRuntime {
  /** The engine's images for the node status; a pull here renews it. */
  readonly images: ImageList;

  constructor(
    @Inject(DOCKER_CLIENT) private readonly docker: Docker,
    @Inject(RUNTIME_CONFIG) private readonly config: RuntimeConfig,
  ) {
    this.images = new ImageList(docker);
  }

  /**
   * Creates and starts the pod's sandbox; returns its container id. Without `dns` the engine
   * gives it the host's resolver configuration (dnsPolicy Default).
   */
  async runSandbox(pod: PodRef, attempt: number, options: SandboxOptions = {}): Promise<string> {
    // In the node container's network namespace the sandbox has that container's resolver: the
    // engine refuses DNS settings there ("conflicting options: dns and the network mode").
    const joinsNode = options.hostNetwork === true && this.config.nodeContainer !== undefined;
    const dns = joinsNode ? undefined : options.dns;
    // The dockershim's makePortsAndBindings: the engine publishes the ports on the sandbox.
    const bindings = new Map<string, { HostIp: string; HostPort: string }[]>();
    for (const m of options.portMappings ?? []) {
      const key = `${m.containerPort}/${m.protocol}`;
      bindings.set(key, [
        ...(bindings.get(key) ?? []),
        { HostIp: m.hostIP ?? '', HostPort: String(m.hostPort) },
      ]);
    }
    const container = await this.docker.createContainer({
      name: sandboxName(pod, attempt),
      Image: this.config.pauseImage,
      ...(bindings.size
        ? { ExposedPorts: Object.fromEntries([...bindings.keys()].map((k) => [k, {}])) }
        : {}),
      // A host-network pod has the node's name (the kubelet sets none for it).
      ...(options.hostNetwork ? {} : { Hostname: pod.name }),
      Labels: sandboxLabels(this.config.clusterId, pod),
      HostConfig: {
        ...(options.hostNetwork
          ? this.config.nodeContainer
            ? { NetworkMode: this.nodeNamespace() }
            : { NetworkMode: 'host', UTSMode: 'host' }
          : {}),
        ...(options.hostPID ? { PidMode: this.nodeNamespace() } : {}),
        ...(bindings.size ? { PortBindings: Object.fromEntries(bindings) } : {}),
        // App containers join its IPC namespace, which Docker only allows from a shareable one
        // (or the host's, which they then share).
        IpcMode: options.hostIPC ? this.nodeNamespace() : 'shareable',
        RestartPolicy: { Name: 'no' },
        // App containers in its network namespace share its /etc/resolv.conf.
        ...(dns ? { Dns: dns.servers, DnsSearch: dns.searches, DnsOptions: dns.options } : {}),
      },
    });
    await container.start();
    return container.id;
  }

  /** Creates an app container in the sandbox's network and IPC namespaces; returns its id. */
  async createContainer(
    sandboxId: string,
    pod: PodRef,
    spec: ContainerSpec,
    attempt: number,
  ): Promise<string> {
    const container = await this.docker.createContainer({
      name: containerName(pod, spec.name, attempt),
      Image: spec.image,
      ...(spec.command ? { Entrypoint: spec.command } : {}),
      ...(spec.args ? { Cmd: spec.args } : {}),
      ...(spec.env ? { Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) } : {}),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      ...(spec.user ? { User: spec.user } : {}),
      Tty: spec.tty ?? false,
      OpenStdin: spec.stdin ?? false,
      StdinOnce: spec.stdinOnce ?? false,
      Labels: { ...spec.labels, ...containerLabels(this.config.clusterId, pod, spec.name, sandboxId) },
      HostConfig: {
        NetworkMode: `container:${sandboxId}`,
        IpcMode: `container:${sandboxId}`,
        ...(spec.pid
          ? {
              PidMode:
                spec.pid.of === 'node'
                  ? this.nodeNamespace()
                  : `container:${spec.pid.of === 'sandbox' ? sandboxId : spec.pid.id}`,
            }
          : {}),
        RestartPolicy: { Name: 'no' },
        ...(spec.mounts?.length
          ? { Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`) }
          : {}),
        ...(spec.resources?.cpuShares ? { CpuShares: spec.resources.cpuShares } : {}),
        ...(spec.resources?.cpuQuota ? { CpuQuota: spec.resources.cpuQuota } : {}),
        ...(spec.resources?.cpuPeriod ? { CpuPeriod: spec.resources.cpuPeriod } : {}),
        ...(spec.resources?.memoryBytes ? { Memory: spec.resources.memoryBytes } : {}),
      },
    });
    return container.id;
  }

  /** A node namespace mode: the engine host's, or the node container's. */
  private nodeNamespace(): string {
    return this.config.nodeContainer ? `container:${this.config.nodeContainer}` : 'host';
  }

  async startContainer(id: string): Promise<void> {
    await this.docker.getContainer(id).start();
  }

  /** This cluster's containers (running or not), optionally one pod's; never anyone else's. */
  async listContainers(filter: { podUid?: string; type?: ContainerType } = {}): Promise<RuntimeContainer[]> {
    const label = [`${LABELS.cluster}=${this.config.clusterId}`];
    if (filter.podUid) label.push(`${LABELS.podUid}=${filter.podUid}`);
    if (filter.type) label.push(`${LABELS.containerType}=${filter.type}`);
    const found = await this.docker.listContainers({ all: true, filters: { label } });
    // The engine filtered by this cluster's label: other clusters' containers never come back.
    return found.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      type: c.Labels[LABELS.containerType] === 'podsandbox' ? 'podsandbox' : 'container',
      pod: {
        name: c.Labels[LABELS.podName] ?? '',
        namespace: c.Labels[LABELS.podNamespace] ?? '',
        uid: c.Labels[LABELS.podUid] ?? '',
      },
      containerName: c.Labels[LABELS.containerName],
      sandboxId: c.Labels[LABELS.sandboxId],
      image: c.Image,
      state: c.State,
      labels: c.Labels,
    }));
  }

  async inspect(id: string): Promise<ContainerStatus> {
    const info = await this.docker.getContainer(id).inspect();
    const state = info.State;
    const finished = state.Status === 'exited' || state.Status === 'dead';
    // App containers report no networks of their own: they live in the sandbox's.
    const ipAddress = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
    return {
      id: info.Id,
      status: state.Status as ContainerStatus['status'],
      running: state.Running,
      ...(finished ? { exitCode: state.ExitCode } : {}),
      oomKilled: state.OOMKilled,
      ...(state.Error ? { error: state.Error } : {}),
      ...optionalDate('startedAt', state.StartedAt),
      ...optionalDate('finishedAt', state.FinishedAt),
      ...(ipAddress ? { ipAddress } : {}),
      ...(isNodeNetwork(info.HostConfig.NetworkMode, info.Config.Labels ?? {}) ? { hostNetwork: true } : {}),
    };
  }

  /** SIGTERM (or the image's STOPSIGNAL), then SIGKILL once `graceSeconds` pass. */
  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceSeconds)) });
    } catch (e) {
      // 304: already stopped, which is what was asked for.
      if ((e as { statusCode?: number }).statusCode !== 304) throw e;
    }
  }

  /** Removes a container; `force` kills it first if it still runs. A missing one is no error. */
  async removeContainer(id: string, { force = false }: { force?: boolean } = {}): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force, v: true });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  /**
   * Runs a command in a running container and collects its output (exec probes, preStop
   * hooks). The engine cannot cancel an exec: after the timeout the command is left running
   * and reported as timed out, as the dockershim did.
   */
  async execCapture(id: string, command: string[], timeoutMs: number): Promise<ExecResult> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise<boolean>((resolve, reject) => {
      stream.once('end', () => resolve(true));
      stream.once('close', () => resolve(true));
      stream.once('error', reject);
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const finished = await Promise.race([ended, timeout]).finally(() => clearTimeout(timer));
    if (!finished) {
      stream.destroy();
      return { output: outputOf(chunks), timedOut: true };
    }
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? undefined, output: outputOf(chunks), timedOut: false };
  }

  async logs(id: string, options: LogOptions = {}): Promise<LogLine[]> {
    const timestamps = options.timestamps ?? false;
    const raw = await this.docker.getContainer(id).logs({
      follow: false,
      stdout: true,
      stderr: true,
      timestamps,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since ? { since: options.since.getTime() / 1000 } : {}),
    });
    return logLines(demuxLogs(raw), timestamps);
  }

  /**
   * The container's log as bytes, stdout and stderr interleaved in the engine's order as the
   * dockershim copied them to one response; with `follow`, new output too until the container
   * stops or `signal` aborts. Each engine read comes out as one buffer, however many lines
   * (frames) it held: a log is millions of tiny frames, and they travel better together.
   */
  async *streamLogs(id: string, options: LogStreamOptions = {}): AsyncGenerator<Buffer> {
    const container = this.docker.getContainer(id);
    // A TTY container's log is one unframed stream.
    const tty = (await container.inspect()).Config.Tty;
    const query = {
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.since ? { since: options.since.getTime() / 1000 } : {}),
    };
    const source: AsyncIterable<Buffer> | Buffer[] = options.follow
      ? ((await container.logs({ ...query, follow: true })) as Readable)
      : [await container.logs({ ...query, follow: false })];
    const stop = () => (source as Partial<Readable>).destroy?.();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      const decoder = new FrameDecoder();
      for await (const chunk of source) {
        if (options.signal?.aborted) return;
        const data = tty ? chunk : Buffer.concat(decoder.push(chunk).map((f) => f.data));
        if (data.length) yield data;
      }
    } finally {
      options.signal?.removeEventListener('abort', stop);
      stop();
    }
  }

  /**
   * Starts a command in a running container with its streams attached (kubectl exec), over a
   * hijacked connection: write stdin to `stream` (ending it closes the command's stdin) and
   * read its output from it, framed as logs are unless `tty`.
   */
  async execAttached(id: string, options: AttachedExecOptions): Promise<AttachedExec> {
    const exec = await this.docker.getContainer(id).exec({
      Cmd: options.command,
      AttachStdin: options.stdin,
      AttachStdout: options.stdout,
      AttachStderr: options.stderr,
      Tty: options.tty,
    });
    const stream = (await exec.start({
      hijack: true,
      stdin: options.stdin,
      Detach: false,
      Tty: options.tty,
    })) as Duplex;
    return {
      stream,
      resize: async (width, height) => {
        await exec.resize({ w: width, h: height });
      },
      exitCode: async () => {
        // The output can end a moment before the engine records the exit code.
        for (let i = 0; ; i++) {
          const info = await exec.inspect();
          if (!info.Running && info.ExitCode !== null) return info.ExitCode;
          if (i >= 200) throw new Error(`exec in ${id} still reports running after its output ended`);
          await new Promise((r) => setTimeout(r, 25));
        }
      },
    };
  }

  /**
   * Attaches to a running container's own process (kubectl attach): its stdin, when the
   * container keeps one open, and the output it writes from now on — framed unless it has a TTY.
   */
  async attachContainer(id: string, options: AttachOptions): Promise<AttachedContainer> {
    const container = this.docker.getContainer(id);
    const tty = (await container.inspect()).Config.Tty;
    const stream = (await container.attach({
      stream: true,
      hijack: true,
      logs: false,
      stdin: options.stdin,
      stdout: options.stdout,
      stderr: options.stderr,
    })) as Duplex;
    return {
      stream,
      tty,
      resize: async (width, height) => {
        await container.resize({ w: width, h: height });
      },
    };
  }

  /**
   * The engine's events about this cluster's containers (start, die, oom, ...), as a stream of
   * JSON lines; it ends or errors when the engine goes away, and the caller subscribes again.
   */
  async containerEvents(): Promise<NodeJS.ReadableStream> {
    return this.docker.getEvents({
      filters: { type: ['container'], label: [`${LABELS.cluster}=${this.config.clusterId}`] },
    });
  }

  /** An image's id and repo digests, or undefined when the engine does not have it. */
  async inspectImage(ref: string): Promise<{ id: string; repoDigests: string[] } | undefined> {
    try {
      const info = await this.docker.getImage(ref).inspect();
      return { id: info.Id, repoDigests: info.RepoDigests ?? [] };
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
  }

  /** Pulls an image, telling `onProgress` of each progress message; rejects when the pull fails. */
  async pullImage(ref: string, onProgress: (message: string) => void = () => undefined): Promise<void> {
    const stream = await this.docker.pull(ref);
    // Pulled or not, layers and tags may have changed: the node status lists the images anew.
    const pulled = new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(
        stream,
        (error: Error | null, output: { error?: string }[]) => {
          const failed = error ?? output.find((o) => o.error);
          if (!failed) return resolve();
          reject(failed instanceof Error ? failed : new Error(failed.error));
        },
        (event: { status?: string; progress?: string; id?: string }) =>
          onProgress([event.id, event.status, event.progress].filter(Boolean).join(' ')),
      );
    });
    try {
      await pulled;
    } finally {
      this.images.invalidate();
    }
  }
}

export interface LogStreamOptions extends LogOptions {
  follow?: boolean;
  signal?: AbortSignal;
}

export interface AttachedExecOptions {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export interface AttachedExec {
  /** stdin in, output out (framed unless tty); destroy it to detach. */
  stream: Duplex;
  resize(width: number, height: number): Promise<void>;
  /** Waits for the command to finish and returns its exit code. */
  exitCode(): Promise<number>;
}

function outputOf(chunks: Buffer[]): string {
  return demuxLogs(Buffer.concat(chunks))
    .map((f) => f.text)
    .join('');
}

/** Docker reports "never" as the zero time 0001-01-01T00:00:00Z. */
function optionalDate<K extends string>(key: K, value: string): Partial<Record<K, Date>> {
  if (!value || value.startsWith('0001-01-01')) return {};
  return { [key]: new Date(value) } as Partial<Record<K, Date>>;
}

export interface AttachOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface AttachedContainer {
  /** stdin in, output out (framed unless `tty`); destroy it to detach. */
  stream: Duplex;
  /** Whether the container has a TTY: its output is then one unframed stream. */
  tty: boolean;
  resize(width: number, height: number): Promise<void>;
}

/**
 * Whether a container is a sandbox in the node's network namespace: the engine host's, or the
 * node container's (the only other container a sandbox ever joins).
 */
function isNodeNetwork(mode: string | undefined, labels: Record<string, string>): boolean {
  if (mode === 'host') return true;
  return labels[LABELS.containerType] === 'podsandbox' && (mode ?? '').startsWith('container:');
}
