import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';

import { jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Controller, type DynamicModule, Inject, type INestMicroservice, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, type MicroserviceOptions, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';

import { waitFor } from '@app/dev-servers';
import { requireHarnessState } from '@app/testing';

import {
  JetStreamWorkClient,
  type JetStreamWorkContext,
  JetStreamWorkServer,
  type JetStreamWorkStatus,
  TerminalWorkError,
  type WorkFailure,
  workDurableName,
  WorkErrorPassthroughFilter,
} from '@app/bus';

/** An ack token without the reason nats-server 2.11+ may append to +TERM. */
const termless = (token: string) => (token.startsWith('+TERM') ? '+TERM' : token);

// Streams on one nats-server may not share subjects: this suite owns its stream and its root.
const suffix = randomBytes(4).toString('hex');
const STREAM = `WORK_TEST_${suffix}`;
const ROOT = `wt${suffix}`;
const OK = `${ROOT}.ok`;
const FLAKY = `${ROOT}.flaky`;
const POISON = `${ROOT}.poison`;
const HOPELESS = `${ROOT}.hopeless`;
const LATER = `${ROOT}.later`;
const SLOW = `${ROOT}.slow`;

const MAX_DELIVER = 4;
const RETRY = { initialDelayMs: 40, multiplier: 2, maxDelayMs: 100 };

interface Job {
  id: string;
}

interface Seen {
  pattern: string;
  subject: string;
  id: string;
  deliveryCount: number;
}

/** What the handlers did, and the knobs a test turns. */
class Behaviour {
  readonly seen: Seen[] = [];
  slowStarted = false;
  slowFinished = false;
  private releaseSlow: () => void = () => {};
  private readonly slowGate = new Promise<void>((resolve) => (this.releaseSlow = resolve));

  record(pattern: string, job: Job, ctx: JetStreamWorkContext): void {
    this.seen.push({ pattern, subject: ctx.getSubject(), id: job.id, deliveryCount: ctx.getDeliveryCount() });
  }

  deliveries(id: string): Seen[] {
    return this.seen.filter((s) => s.id === id);
  }

  async slow(): Promise<void> {
    this.slowStarted = true;
    await this.slowGate;
    this.slowFinished = true;
  }

  release(): void {
    this.releaseSlow();
  }
}

const BEHAVIOUR = Symbol('behaviour');

// `<string>` picks EventPattern's untyped overload: its typed one declares every parameter
// after the payload `unknown`, which rejects a typed @Ctx() parameter.
@Controller()
class WorkController {
  constructor(@Inject(BEHAVIOUR) private readonly behaviour: Behaviour) {}

  @EventPattern<string>(OK)
  ok(@Payload() job: Job, @Ctx() ctx: JetStreamWorkContext): void {
    this.behaviour.record(OK, job, ctx);
  }

  @EventPattern<string>(FLAKY)
  async flaky(@Payload() job: Job, @Ctx() ctx: JetStreamWorkContext): Promise<void> {
    this.behaviour.record(FLAKY, job, ctx);
    if (ctx.getDeliveryCount() <= 2) throw new Error(`transient failure #${ctx.getDeliveryCount()}`);
  }

  @EventPattern<string>(POISON)
  poison(@Payload() job: Job, @Ctx() ctx: JetStreamWorkContext): void {
    this.behaviour.record(POISON, job, ctx);
    throw new TerminalWorkError(`job ${job.id} can never succeed`);
  }

  @EventPattern<string>(HOPELESS)
  hopeless(@Payload() job: Job, @Ctx() ctx: JetStreamWorkContext): void {
    this.behaviour.record(HOPELESS, job, ctx);
    throw new Error('still failing');
  }

  @EventPattern<string>(LATER)
  later(@Payload() job: Job, @Ctx() ctx: JetStreamWorkContext): void {
    this.behaviour.record(LATER, job, ctx);
  }

  @EventPattern<string>(SLOW)
  async slow(@Payload() job: Job, @Ctx() ctx: JetStreamWorkContext): Promise<void> {
    this.behaviour.record(SLOW, job, ctx);
    await this.behaviour.slow();
  }
}

@Module({})
class WorkModule {
  static with(behaviour: Behaviour): DynamicModule {
    return {
      module: WorkModule,
      controllers: [WorkController],
      providers: [{ provide: BEHAVIOUR, useValue: behaviour }],
    };
  }
}

@Controller()
class RequestController {
  @MessagePattern(`${ROOT}.question`)
  answer(): number {
    return 42;
  }
}

@Controller()
class ForeignController {
  @EventPattern<string>('elsewhere.thing')
  thing(): void {}
}

interface Worker {
  app: INestMicroservice;
  server: JetStreamWorkServer;
  behaviour: Behaviour;
  statuses: JetStreamWorkStatus[];
  failures: WorkFailure[];
}

/** Every ack-protocol message workers send for this suite's stream: what each delivery became. */
class AckTap {
  readonly replies: { consumer: string; body: string }[] = [];
  private readonly sub: Subscription;

  constructor(nc: NatsConnection) {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>
    this.sub = nc.subscribe(`$JS.ACK.${STREAM}.>`, {
      callback: (err, msg) => {
        if (err) throw err;
        const body = msg.string();
        if (body !== '+WPI') this.replies.push({ consumer: msg.subject.split('.')[3], body });
      },
    });
  }

  for(pattern: string): string[] {
    const consumer = workDurableName(pattern);
    return this.replies.filter((r) => r.consumer === consumer).map((r) => r.body);
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}

describe('JetStream work transport (real nats-server, real Nest microservice)', () => {
  let natsUrl: string;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let tap: AckTap;
  let client: JetStreamWorkClient;
  const workers: Worker[] = [];

  const workOptions = {
    stream: { name: STREAM, subjectRoot: ROOT },
    consumer: { maxDeliver: MAX_DELIVER, ackWaitMs: 5_000, retry: RETRY },
  };

  async function startWorker({ passErrors = false } = {}): Promise<Worker> {
    const behaviour = new Behaviour();
    const server = new JetStreamWorkServer({ servers: natsUrl, name: 'work-test', ...workOptions });
    const statuses: JetStreamWorkStatus[] = [];
    const failures: WorkFailure[] = [];
    server.status.subscribe((s) => statuses.push(s));
    server.on('retry', (f) => failures.push(f));
    server.on('terminated', (f) => failures.push(f));
    const app = await NestFactory.createMicroservice<MicroserviceOptions>(WorkModule.with(behaviour), {
      strategy: server,
      logger: ['error', 'warn'],
    });
    if (passErrors) app.useGlobalFilters(new WorkErrorPassthroughFilter());
    await app.listen();
    const worker = { app, server, behaviour, statuses, failures };
    workers.push(worker);
    return worker;
  }

  async function stopWorker(worker: Worker): Promise<void> {
    workers.splice(workers.indexOf(worker), 1);
    await worker.app.close();
  }

  function consumerInfo(pattern: string): Promise<ConsumerInfo> {
    return jsm.consumers.info(STREAM, workDurableName(pattern));
  }

  /** Nothing left to deliver or to acknowledge on the pattern's consumer, and nothing stored for it. */
  async function settled(pattern: string): Promise<ConsumerInfo> {
    return waitFor(`${pattern} settled`, async () => {
      const info = await consumerInfo(pattern);
      const stored = await storedFor(pattern);
      return info.num_pending === 0 && info.num_ack_pending === 0 && stored === 0 ? info : undefined;
    });
  }

  async function storedFor(subject: string): Promise<number> {
    const info = await jsm.streams.info(STREAM, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  const job = (): Job => ({ id: randomBytes(6).toString('hex') });

  beforeAll(async () => {
    natsUrl = requireHarnessState().natsUrl;
    nc = await connect({ servers: natsUrl });
    jsm = await jetstreamManager(nc);
    tap = new AckTap(nc);
    client = new JetStreamWorkClient({ servers: natsUrl, stream: workOptions.stream });
    await client.connect();
  });

  afterEach(async () => {
    for (const worker of [...workers].reverse()) await stopWorker(worker);
  });

  afterAll(async () => {
    tap?.stop();
    await client?.close();
    await jsm?.streams.delete(STREAM).catch(() => undefined);
    await nc?.close();
  });

  it('sets up a work-queue stream and one durable consumer per @EventPattern', async () => {
    const { server } = await startWorker();
    const stream = await jsm.streams.info(STREAM);
    expect(stream.config).toMatchObject({ retention: 'workqueue', subjects: [`${ROOT}.>`] });
    expect(server.consumers.get(OK)).toBe(workDurableName(OK));
    const info = await consumerInfo(OK);
    expect(info.config).toMatchObject({
      durable_name: workDurableName(OK),
      filter_subject: OK,
      ack_policy: 'explicit',
      max_deliver: MAX_DELIVER,
      ack_wait: 5_000 * 1_000_000,
    });
  });

  it('handles a message and acknowledges it once the handler returned', async () => {
    const { behaviour } = await startWorker();
    const work = job();
    const ack = await lastValueFrom(client.emit(OK, work));
    expect(ack).toMatchObject({ stream: STREAM, duplicate: false });

    await waitFor('the handler to run', () => (behaviour.deliveries(work.id).length ? true : undefined));
    const info = await settled(OK);
    expect(info.num_redelivered).toBe(0);
    expect(behaviour.deliveries(work.id)).toEqual([
      { pattern: OK, subject: OK, id: work.id, deliveryCount: 1 },
    ]);
    await waitFor('the ack', () => (tap.for(OK).length ? true : undefined));
    expect(tap.for(OK)).toEqual(['+ACK']);
  });

  it('retries a retryable failure with growing delays, then acks once', async () => {
    const { behaviour, failures } = await startWorker({ passErrors: true });
    const work = job();
    await client.enqueue(FLAKY, work);

    await waitFor('three deliveries', () => (behaviour.deliveries(work.id).length >= 3 ? true : undefined));
    await settled(FLAKY);
    await waitFor('the final ack', () => (tap.for(FLAKY).includes('+ACK') ? true : undefined));

    expect(behaviour.deliveries(work.id).map((s) => s.deliveryCount)).toEqual([1, 2, 3]);
    // Two naks, delays from the backoff (40 ms, then 80 ms), then exactly one ack.
    expect(tap.for(FLAKY)).toEqual([
      `-NAK ${JSON.stringify({ delay: 40 * 1_000_000 })}`,
      `-NAK ${JSON.stringify({ delay: 80 * 1_000_000 })}`,
      '+ACK',
    ]);
    // With the pass-through filter the transport sees (and logs) the handler's own error.
    expect(failures.map((f) => [f.outcome, f.deliveryCount, f.delayMs, String(f.error)])).toEqual([
      ['retry', 1, 40, 'Error: transient failure #1'],
      ['retry', 2, 80, 'Error: transient failure #2'],
    ]);
  });

  it('terminates a TerminalWorkError at once: delivered once, never again', async () => {
    const { behaviour, failures } = await startWorker();
    const work = job();
    await client.enqueue(POISON, work);

    await waitFor('the termination', () => (tap.for(POISON).length ? true : undefined));
    const info = await settled(POISON);
    // nats-server 2.11+ appends a reason to +TERM.
    expect(tap.for(POISON).map(termless)).toEqual(['+TERM']);
    expect(info.num_redelivered).toBe(0);
    expect(behaviour.deliveries(work.id)).toHaveLength(1);
    expect(failures).toMatchObject([{ outcome: 'terminated', reason: 'terminal-error', deliveryCount: 1 }]);
    expect(failures[0].error).toBeInstanceOf(TerminalWorkError);
  });

  it('terminates a message whose deliveries ran out', async () => {
    const { behaviour, failures } = await startWorker();
    const work = job();
    await client.enqueue(HOPELESS, work);

    await waitFor('the termination', () =>
      tap.for(HOPELESS).map(termless).includes('+TERM') ? true : undefined,
    );
    await settled(HOPELESS);
    expect(behaviour.deliveries(work.id).map((s) => s.deliveryCount)).toEqual([1, 2, 3, 4]);
    // Backoff 40, 80, then capped at 100 ms; the last delivery is terminated, not nak'ed.
    expect(tap.for(HOPELESS).map(termless)).toEqual([
      `-NAK ${JSON.stringify({ delay: 40 * 1_000_000 })}`,
      `-NAK ${JSON.stringify({ delay: 80 * 1_000_000 })}`,
      `-NAK ${JSON.stringify({ delay: 100 * 1_000_000 })}`,
      '+TERM',
    ]);
    expect(failures.at(-1)).toMatchObject({ outcome: 'terminated', reason: 'max-deliver', deliveryCount: 4 });
  });

  it('keeps work emitted while no worker runs, and handles it once one starts', async () => {
    // A first worker creates the consumers, then goes away.
    await stopWorker(await startWorker());

    const work = job();
    const ack = await client.enqueue(LATER, work, { msgId: `later-${work.id}` });
    expect(ack.duplicate).toBe(false);
    // The same msgID again is recognised as a duplicate, not stored twice.
    expect((await client.enqueue(LATER, work, { msgId: `later-${work.id}` })).duplicate).toBe(true);
    expect(await storedFor(LATER)).toBe(1);
    expect((await consumerInfo(LATER)).num_pending).toBe(1);

    const { behaviour } = await startWorker();
    await waitFor('the stored work to be handled', () =>
      behaviour.deliveries(work.id).length ? true : undefined,
    );
    await settled(LATER);
    expect(behaviour.deliveries(work.id)).toMatchObject([{ deliveryCount: 1 }]);
  });

  it('close() stops consuming, waits for the running handler, acks it, then closes', async () => {
    const worker = await startWorker();
    const { behaviour, server, statuses } = worker;
    const work = job();
    await client.enqueue(SLOW, work);
    await waitFor('the slow handler to start', () => (behaviour.slowStarted ? true : undefined));

    let closed = false;
    workers.splice(workers.indexOf(worker), 1);
    const closing = worker.app.close().then(() => (closed = true));
    try {
      await waitFor('the transport to start draining', () =>
        statuses.includes('draining') ? true : undefined,
      );
      // After a round trip to nats-server, a close() that did not wait for the handler would be
      // draining (or have closed) the worker's connection already.
      expect((await consumerInfo(SLOW)).num_ack_pending).toBe(1);
      const connection = server.unwrap<NatsConnection>();
      expect(connection.isDraining() || connection.isClosed()).toBe(false);
      expect(server.inFlightCount).toBe(1);
      expect(closed).toBe(false);
      expect(tap.for(SLOW)).toEqual([]);
    } finally {
      // Whatever happened above, let the handler and close() finish.
      behaviour.release();
    }
    await closing;
    expect(behaviour.slowFinished).toBe(true);
    expect(statuses.at(-1)).toBe('closed');
    // The ack went out before the connection was drained: the message is gone for good.
    await waitFor('the ack', () => (tap.for(SLOW).length ? true : undefined));
    expect(tap.for(SLOW)).toEqual(['+ACK']);
    await settled(SLOW);
    expect(behaviour.deliveries(work.id)).toHaveLength(1);
  });

  it('refuses to start with a @MessagePattern or a pattern outside the work root', async () => {
    for (const [controller, error] of [
      [RequestController, /runs @EventPattern handlers only/],
      [ForeignController, /not a work subject filter/],
    ] as const) {
      @Module({ controllers: [controller] })
      class BadModule {}
      const server = new JetStreamWorkServer({ servers: natsUrl, ...workOptions });
      const app = await NestFactory.createMicroservice<MicroserviceOptions>(BadModule, {
        strategy: server,
        logger: false,
      });
      await expect(app.listen()).rejects.toThrow(error);
      await app.close();
    }
  });

  it('refuses request/response and subjects outside the work root', async () => {
    expect(() => client.send(OK, job())).toThrow(/does not support request\/response/);
    await expect(client.enqueue('elsewhere.x', job())).rejects.toThrow(/not a work subject/);
    await expect(client.enqueue(`${ROOT}.*`, job())).rejects.toThrow(/not a work subject/);
  });
});
