import { ExponentialBackoff } from '@app/client';

import { LABELS } from '../runtime/index.js';

export interface EngineEvent {
  /** The engine's action word: start, die, oom, destroy... */
  action: string;
  containerId: string;
  /** The pod the container belongs to (from its labels), if any. */
  podUid?: string;
}

export interface EngineEventHandlers {
  onEvent(event: EngineEvent): void;
  /** The stream is back after a break: whatever happened meanwhile went unseen, so resync all. */
  onReconnect(): void;
  onTrouble?(error: Error): void;
}

export interface EngineEventOptions {
  /** Reconnect backoff: base and cap in ms. Default 200 ms → 10 s. */
  backoffMs?: [number, number];
}

/** The shape of one line of the engine's /events stream. */
interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * Follows the engine's container events (the kubelet's PLEG, pushed rather than polled):
 * a container that died or started wakes its pod's worker at once. The stream breaks when the
 * engine restarts; the watcher then reconnects with backoff and says so, because events
 * lost meanwhile (the engine's restart killed every container) are only found by a resync.
 */
export class EngineEventWatcher {
  private stopped = false;
  private running?: Promise<void>;
  private current?: NodeJS.ReadableStream;
  private wake?: () => void;
  private readonly backoff: ExponentialBackoff<'engine'>;

  constructor(
    private readonly open: () => Promise<NodeJS.ReadableStream>,
    private readonly handlers: EngineEventHandlers,
    o: EngineEventOptions = {},
  ) {
    const [base, cap] = o.backoffMs ?? [200, 10_000];
    this.backoff = new ExponentialBackoff(base, cap);
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const stream = this.current as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    stream?.destroy?.();
    await this.running;
  }

  private async run(): Promise<void> {
    let broken = false;
    while (!this.stopped) {
      try {
        const stream = await this.open();
        this.current = stream;
        if (this.stopped) break;
        if (broken) this.handlers.onReconnect();
        broken = false;
        this.backoff.forget('engine');
        await this.follow(stream);
        if (!this.stopped) this.handlers.onTrouble?.(new Error('the engine closed its event stream'));
      } catch (e) {
        if (this.stopped) break;
        this.handlers.onTrouble?.(e as Error);
      }
      broken = true;
      if (this.stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.backoff.when('engine'));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves when the stream ends (or errors: a broken stream is the same news). */
  private follow(stream: NodeJS.ReadableStream): Promise<void> {
    return new Promise<void>((resolve) => {
      let partial = '';
      stream.on('data', (chunk: Buffer | string) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.line(line);
      });
      stream.once('end', () => resolve());
      stream.once('close', () => resolve());
      stream.once('error', (e: Error) => {
        this.handlers.onTrouble?.(e);
        resolve();
      });
    });
  }

  private line(text: string): void {
    if (!text.trim()) return;
    let raw: RawEvent;
    try {
      raw = JSON.parse(text) as RawEvent;
    } catch {
      return;
    }
    if (raw.Type !== 'container' || !raw.Actor?.ID || !raw.Action) return;
    const podUid = raw.Actor.Attributes?.[LABELS.podUid];
    this.handlers.onEvent({
      // "exec_start: sh -c ..." and the like carry their command after a colon.
      action: raw.Action.split(':')[0]!,
      containerId: raw.Actor.ID,
      ...(podUid ? { podUid } : {}),
    });
  }
}
