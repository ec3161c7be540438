import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The filter rules (OUTPUT, FORWARD) that refuse the rest of `serviceCidr`, of the proxy whose jump comment is `comment`. */
export async function serviceRangeRefusals(serviceCidr: string, comment: string): Promise<string[]> {
  const listed = await Promise.all(['OUTPUT', 'FORWARD'].map((c) => run('iptables', ['-w', '-S', c])));
  return listed
    .flatMap((r) => r.stdout.split('\n'))
    .filter((l) => l.includes(`-d ${serviceCidr}`) && l.includes(comment) && l.includes('-j REJECT'));
}
