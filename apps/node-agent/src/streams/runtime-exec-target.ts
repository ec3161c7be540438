import {
  type ExecOutput,
  type ExecProcess,
  type ExecRequest,
  type ExecStarter,
  type ExecTarget,
  StreamRefused,
} from '@app/bus';

import { type DockerRuntime, FrameDecoder, type RuntimeContainer } from '../runtime/index.js';
import { findPodContainers } from './pod-containers.js';

/**
 * Runs `kubectl exec` commands with the engine's exec, attached: stdin in, stdout and stderr
 * (one raw stream with a TTY) out, resizes, and the exit code once the command ended; and
 * `kubectl attach` with the engine's attach to the container's own process.
 */
export class RuntimeExecTarget implements ExecTarget {
  constructor(private readonly runtime: DockerRuntime) {}

  async open(request: ExecRequest): Promise<ExecStarter> {
    const container = await this.runningContainer(request);
    return (output) => this.start(container, request, output);
  }

  private async start(
    container: RuntimeContainer,
    request: ExecRequest,
    output: ExecOutput,
  ): Promise<ExecProcess> {
    const streams = { stdin: request.stdin, stdout: request.stdout, stderr: request.stderr };
    const attached = request.attach
      ? await this.runtime.attachContainer(container.id, streams)
      : await this.runtime.execAttached(container.id, {
          ...streams,
          command: request.command,
          tty: request.tty,
        });
    const { stream } = attached;
    // An attach's framing is the container's (its TTY was set at creation), an exec's its own.
    const framed = 'tty' in attached ? !attached.tty : !request.tty;
    // Errors surface through the reads below; an unhandled 'error' event would crash the agent.
    stream.on('error', () => {});
    const copied = (async () => {
      const decoder = framed ? new FrameDecoder() : undefined;
      // Reading stops while a write waits for the API server's credit: the engine, then the
      // command, is held back instead of the output piling up here.
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (output.signal.aborted) return;
        if (!decoder) await output.write('stdout', chunk);
        else for (const frame of decoder.push(chunk)) await output.write(frame.stream, frame.data);
      }
    })();
    return {
      writeStdin: (data) =>
        new Promise<void>((resolve, reject) => {
          if (stream.destroyed || stream.writableEnded) return resolve();
          if (stream.write(data)) return resolve();
          const done = () => {
            stream.off('drain', done);
            stream.off('close', done);
            resolve();
          };
          stream.once('drain', done);
          stream.once('close', done);
          stream.once('error', reject);
        }),
      closeStdin: () => {
        if (!stream.writableEnded) stream.end();
      },
      resize: ({ width, height }) => attached.resize(width, height),
      // An attach ends with the container's output, and the kubelet reports it as a success
      // whatever the process did (pkg/kubelet/cri/streaming/remotecommand/attach.go ServeAttach).
      exit: copied.then(() => ('exitCode' in attached ? attached.exitCode() : 0)),
      detach: () => stream.destroy(),
    };
  }

  /**
   * The running instance of the container. Errors as the kubelet words them: an unknown pod is
   * a 404 (pkg/kubelet/server/server.go getExec), a container that does not run a 500 from
   * GetExec's findContainer (pkg/kubelet/kubelet_pods.go).
   */
  private async runningContainer(request: ExecRequest): Promise<RuntimeContainer> {
    const { podFound, attempts } = await findPodContainers(this.runtime, request);
    if (!podFound) throw new StreamRefused(404, 'pod does not exist');
    const current = attempts[0];
    if (!current || current.state !== 'running')
      throw new StreamRefused(500, `container not found ("${request.container}")`);
    return current;
  }
}
