/**
 * The program in a User-Agent (`kubectl.1.33/v1.33.1 (linux/amd64) kubernetes/8adc0f0` →
 * `kubectl.1.33/v1.33.1`): which client a user wrote through, short enough for a column.
 */
export function agentOf(userAgent: string | null): string {
  return userAgent?.split(' ')[0] || '<none>';
}
