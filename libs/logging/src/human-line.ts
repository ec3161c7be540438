/** pino's numeric levels, by the names a human line shows. */
const LEVEL_NAMES: Record<string, string> = {
  '10': 'TRACE',
  '20': 'DEBUG',
  '30': 'INFO',
  '40': 'WARN',
  '50': 'ERROR',
  '60': 'FATAL',
};

/** Fields every line has: shown in the line's head, not repeated in its tail. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'component', 'context', 'pid', 'hostname']);

/**
 * One JSON log record as a short line for a terminal:
 * `11:02:03 WARN  [scheduler] queue: msg key=value ...`. A line that is not a JSON record
 * passes through as it is.
 */
export function humanLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
  const level = LEVEL_NAMES[String(record.level)] ?? String(record.level ?? '').toUpperCase();
  const where = [record.component, record.context].filter((x) => typeof x === 'string' && x).join(' ');
  const tail = Object.entries(record)
    .filter(([k]) => !HEAD_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const message = typeof record.msg === 'string' ? record.msg : '';
  return `${time} ${level.padEnd(5)} ${where ? `[${where}] ` : ''}${message}${tail ? ` ${tail}` : ''}\n`;
}
