import { describe, expect, it } from '@jest/globals';

import { humanLine } from './human-line.js';
import { createLogger, logFormat } from './logger.js';
import { NestPinoLogger } from './nest-logger.js';

const capture = (format: 'json' | 'text') => {
  const lines: string[] = [];
  const logger = createLogger('scheduler', { format, write: (l) => lines.push(l), level: 'debug' });
  return { logger, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
};

describe('createLogger', () => {
  it('writes one JSON record per line with the component, an ISO time, the level name and the fields', () => {
    const { logger, records } = capture('json');
    logger.warn({ pod: 'ns/p', attempt: 2 }, 'binding failed');
    const [r] = records();
    expect(r).toMatchObject({
      level: 'warn',
      component: 'scheduler',
      msg: 'binding failed',
      pod: 'ns/p',
      attempt: 2,
    });
    expect(String(r.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('serialises an error under err with its message and stack', () => {
    const { logger, records } = capture('json');
    logger.error({ err: new Error('boom') }, 'request failed');
    expect(records()[0].err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(String((records()[0].err as { stack: string }).stack)).toContain('Error: boom');
  });

  it('writes short lines for a person in text format', () => {
    const { logger, lines } = capture('text');
    logger.info({ node: 'n1' }, 'node ready');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}\[scheduler\] node ready node=n1\n$/);
  });

  it('picks the format from WAKE_LOG_FORMAT, else from whether stderr is a terminal', () => {
    expect(logFormat({ WAKE_LOG_FORMAT: 'json' }, true)).toBe('json');
    expect(logFormat({ WAKE_LOG_FORMAT: 'text' }, false)).toBe('text');
    expect(logFormat({}, true)).toBe('text');
    expect(logFormat({}, false)).toBe('json');
  });
});

describe('humanLine', () => {
  it('puts component and context in the head and other fields in the tail', () => {
    const line = humanLine(
      JSON.stringify({
        level: 'error',
        time: '2026-11-22T11:02:03.004Z',
        component: 'api-server',
        context: 'bootstrap',
        msg: 'x',
        reqId: 'r1',
      }),
    );
    expect(line).toBe('11:02:03 ERROR [api-server bootstrap] x reqId=r1\n');
  });

  it('passes a line that is not JSON through', () => {
    expect(humanLine('plain text')).toBe('plain text\n');
  });
});

describe('NestPinoLogger', () => {
  it("maps Nest's (message, context) and (message, stack, context) calls to records", () => {
    const { logger, records } = capture('json');
    const nest = new NestPinoLogger(logger);
    nest.log('leading', 'controller-manager');
    nest.error('sync failed', 'Error: x\n    at f (a.ts:1:1)', 'replicaset');
    nest.warn({ msg: 'slow', ms: 12 }, 'queue');
    const [a, b, c] = records();
    expect(a).toMatchObject({ level: 'info', msg: 'leading', context: 'controller-manager' });
    expect(b).toMatchObject({ level: 'error', msg: 'sync failed', context: 'replicaset' });
    expect(String(b.stack)).toContain('at f (a.ts:1:1)');
    expect(c).toMatchObject({ level: 'warn', msg: 'slow', ms: 12, context: 'queue' });
  });
});
