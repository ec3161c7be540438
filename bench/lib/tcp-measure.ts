import { connect, type Socket } from 'node:net';

import { type LatencySummary, summarize } from './stats.js';

/** Where a measurement connects; called once per connection (round robin over pods, or one NodePort). */
export interface Address {
  host: string;
  port: number;
}
export type NextAddress = () => Address;

/**
 * Every error a connected socket reported, including resets while closing after its sample was
 * taken (which change no sample): the summary shows how many there were. A pod netns client's
 * are added here by startNetnsClient, from its replies.
 */
export const socketErrors = { count: 0, first: undefined as string | undefined };

/** Cycles over `addresses`: a direct client spreading its connections as the proxy would. */
export function roundRobin(addresses: Address[]): NextAddress {
  let i = 0;
  return () => addresses[i++ % addresses.length];
}

function open(to: Address, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: to.host, port: to.port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connecting to ${to.host}:${to.port}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.on('error', (e) => {
        socketErrors.count++;
        socketErrors.first ??= `${to.host}:${to.port}: ${e.message}`;
      });
      resolve(socket);
    });
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(new Error(`connecting to ${to.host}:${to.port}: ${e.message}`));
    };
    socket.once('error', fail);
  });
}

export interface ThroughputResult {
  connections: number;
  seconds: number;
  bytes: number;
  megabytesPerSecond: number;
}

/**
 * Bulk download: `connections` parallel connections to the bulk port, each receiving as fast as
 * the path carries; bytes counted after `warmupSeconds` (slow start, the proxy's first dials)
 * over `seconds`. Counted at the receiver, so what sits in socket buffers does not count.
 */
export async function measureThroughput(
  next: NextAddress,
  o: { connections: number; seconds: number; warmupSeconds: number },
): Promise<ThroughputResult> {
  const sockets = await Promise.all(Array.from({ length: o.connections }, () => open(next(), 5000)));
  let bytes = 0;
  let stopping = false;
  const failures: Error[] = [];
  for (const s of sockets) {
    s.on('data', (d: Buffer) => (bytes += d.length));
    s.on('error', (e) => failures.push(e));
    s.on('close', () => {
      if (!stopping) failures.push(new Error('a bulk connection closed before the measurement ended'));
    });
  }
  await sleep(o.warmupSeconds * 1000);
  const from = bytes;
  const start = performance.now();
  await sleep(o.seconds * 1000);
  const counted = bytes - from;
  const elapsed = (performance.now() - start) / 1000;
  stopping = true;
  for (const s of sockets) s.destroy();
  if (failures.length > 0) throw new Error(`bulk transfer failed: ${failures[0].message}`);
  return {
    connections: o.connections,
    seconds: elapsed,
    bytes: counted,
    megabytesPerSecond: counted / elapsed / 1e6,
  };
}

export interface RoundTripResult {
  /** Round trips completed. */
  count: number;
  /** Milliseconds from sending a request to its last reply byte (with connect when new each). */
  latencyMs: LatencySummary;
}

/** Reads exactly `size` bytes from a socket that carries nothing else. */
function readBytes(socket: Socket, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let got = 0;
    const onData = (d: Buffer) => {
      got += d.length;
      if (got >= size) {
        cleanup();
        resolve();
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error(`connection ended after ${got} of ${size} reply bytes`));
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
  });
}

/** One request/response on a fresh connection to the echo port: connect, send, read the echo, close. */
async function freshRoundTrip(to: Address, request: Buffer): Promise<number> {
  const start = performance.now();
  const socket = await open(to, 5000);
  try {
    socket.write(request);
    await readBytes(socket, request.length);
    return performance.now() - start;
  } finally {
    socket.end();
  }
}

/**
 * Sequential small round trips (one at a time, so each sample is pure latency) to the echo port:
 * over one persistent connection, or each on a new connection (connect + send + reply).
 * Bounded by `requests` and by `seconds`, whichever comes first.
 */
export async function measureRoundTrips(
  next: NextAddress,
  o: { requests: number; seconds: number; size: number; newConnectionEach: boolean },
): Promise<RoundTripResult> {
  const request = Buffer.alloc(o.size, 0x61);
  const samples: number[] = [];
  const deadline = performance.now() + o.seconds * 1000;
  if (o.newConnectionEach) {
    while (samples.length < o.requests && performance.now() < deadline) {
      samples.push(await freshRoundTrip(next(), request));
    }
  } else {
    const socket = await open(next(), 5000);
    try {
      while (samples.length < o.requests && performance.now() < deadline) {
        const start = performance.now();
        socket.write(request);
        await readBytes(socket, request.length);
        samples.push(performance.now() - start);
      }
    } finally {
      socket.destroy();
    }
  }
  return { count: samples.length, latencyMs: summarize(samples) };
}

export interface ConnectionRateResult {
  concurrency: number;
  seconds: number;
  connections: number;
  perSecond: number;
  errors: number;
  firstError?: string;
  latencyMs: LatencySummary;
}

/**
 * New connections per second: `concurrency` loops each doing connect → 64-byte echo → close,
 * for `seconds` or until `maxConnections` (bounded: every closed connection leaves a TIME_WAIT).
 */
export async function measureConnectionRate(
  next: NextAddress,
  o: { concurrency: number; seconds: number; maxConnections: number },
): Promise<ConnectionRateResult> {
  const request = Buffer.alloc(64, 0x62);
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let started = 0;
  const start = performance.now();
  const deadline = start + o.seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline && started < o.maxConnections) {
      started++;
      try {
        samples.push(await freshRoundTrip(next(), request));
      } catch (e) {
        errors++;
        firstError ??= (e as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  const elapsed = (performance.now() - start) / 1000;
  return {
    concurrency: o.concurrency,
    seconds: elapsed,
    connections: samples.length,
    perSecond: samples.length / elapsed,
    errors,
    firstError,
    latencyMs: summarize(samples),
  };
}

/** Connects to a `who` port and returns the endpoint address it answered with. */
export async function probeWho(to: Address, timeoutMs = 2000): Promise<string> {
  const socket = await open(to, timeoutMs);
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`probe of ${to.host}:${to.port}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`probe of ${to.host}:${to.port}: ${e.message}`));
    });
    socket.once('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text.trim());
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
