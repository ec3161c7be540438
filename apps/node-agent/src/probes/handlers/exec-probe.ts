import { type ExecResult } from '../../runtime/index.js';
import { type HandlerOutcome, MAX_PROBE_OUTPUT } from './outcome.js';

/**
 * Runs a command in a running container (the kubelet's ContainerCommandRunner);
 * DockerRuntime.execCapture is the real one.
 */
export interface CommandRunner {
  execCapture(containerId: string, command: string[], timeoutMs: number): Promise<ExecResult>;
}

/**
 * An exec probe (pkg/probe/exec/exec.go): exit code 0 succeeds, any other fails with the
 * command's output; a command that outlives the timeout fails with the message the CRI gives
 * (`command "..." timed out`, ExecProbeTimeout on, as it is by default). An exec the engine
 * refuses throws: the probe errored.
 */
export async function execProbe(
  runner: CommandRunner,
  containerId: string,
  command: string[],
  timeoutMs: number,
): Promise<HandlerOutcome> {
  const run = await runner.execCapture(containerId, command, timeoutMs);
  if (run.timedOut)
    return { result: 'failure', output: `command ${JSON.stringify(command.join(' '))} timed out` };
  const output = Buffer.from(run.output).subarray(0, MAX_PROBE_OUTPUT).toString();
  return { result: run.exitCode === 0 ? 'success' : 'failure', output };
}
