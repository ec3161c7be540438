import { type ApiClient, ExponentialBackoff } from '@app/client';

import { type NodeFacts } from '../node/node-facts.js';
import { NodeLeaseRenewer } from '../node/node-lease.js';
import { NodeStatusReporter } from '../node/node-status-reporter.js';
import { type NodeRegistration } from '../node/node-status.js';
import { type RequestBudget } from './request-budget.js';
import { type SimIpam } from './sim-ipam.js';
import { jittered, TimerWheel } from './timer-wheel.js';

/** The label every simulated node carries, and the key of the taint `--sim-taint` adds (kwok's type=kwok / kwok.x-k8s.io/node). */
export const SIMULATED_LABEL = 'wake.dev/simulated';
/** Which shard of the simulated nodes a node belongs to (`<i>-of-<n>`): which process speaks for it. */
export const SHARD_LABEL = 'sim.wake.dev/shard';

export interface SimNodesOptions {
  api: ApiClient;
  budget: RequestBudget;
  ipam: SimIpam;
  facts: (name: string, internalIP: string) => NodeFacts;
  /** Node name → its index (which fixes its addresses). */
  nodes: ReadonlyMap<string, number>;
  registration: Omit<NodeRegistration, 'nodeName'>;
  leaseDurationSeconds?: number;
  /** Lease renewal (10 s upstream: a quarter of the lease), stretched by up to 4% jitter. */
  leaseRenewMs?: number;
  /** nodeStatusReportFrequency (5 min upstream). */
  statusReportMs?: number;
  /** After a failed heartbeat, retry after base doubling to cap (upstream: 200 ms → 7 s). */
  retryMs?: [number, number];
  tickMs?: number;
  onTrouble?: (what: string, e: Error) => void;
}

interface SimNode {
  name: string;
  status: NodeStatusReporter;
  lease: NodeLeaseRenewer;
  /** False while a chaos stage holds the node NotReady. */
  ready: boolean;
}

/**
 * The simulated nodes of one process: registers each Node (one write: the status rides on the
 * create), keeps each Lease renewed and each status reported, using the node agent's own
 * NodeStatusReporter and NodeLeaseRenewer per node, but one timer wheel for all of them
 * (kwok's node lease controller) and the process's request budget for every write.
 */
export class SimNodes {
  private readonly byName = new Map<string, SimNode>();
  private readonly wheel: TimerWheel<string>;
  private stopped = false;
  /** Per node: a failed heartbeat is retried sooner, backing off. */
  private readonly retries: ExponentialBackoff<string>;

  constructor(private readonly o: SimNodesOptions) {
    const [base, cap] = o.retryMs ?? [200, 7_000];
    this.retries = new ExponentialBackoff(base, cap);
    this.wheel = new TimerWheel({
      tickMs: o.tickMs ?? 50,
      onDue: (names) => names.forEach((n) => this.beat(n)),
    });
    for (const [name, index] of o.nodes) {
      const internalIP = o.ipam.nodeIP(index);
      const node: SimNode = {
        name,
        ready: true,
        status: new NodeStatusReporter(o.api, {
          registration: { nodeName: name, ...o.registration },
          facts: async () => o.facts(name, internalIP),
          health: async () => ({ runtimeUp: node.ready }),
          reportEveryMs: o.statusReportMs,
          createdStatusCounts: true,
        }),
        lease: new NodeLeaseRenewer(o.api, {
          nodeName: name,
          leaseDurationSeconds: o.leaseDurationSeconds,
          nodeUid: () => node.status.nodeUid,
        }),
      };
      this.byName.set(name, node);
    }
  }

  get names(): string[] {
    return [...this.byName.keys()];
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Registers every node and its Lease (through the budget, pipelined), then keeps them alive. */
  async start(): Promise<void> {
    this.wheel.start();
    await Promise.all(
      [...this.byName.values()].map(async (node) => {
        try {
          await this.o.budget.run('work', () => node.status.register());
          await this.o.budget.run('heartbeat', () => node.lease.renew());
          this.wheel.schedule(node.name, this.renewIn());
        } catch (e) {
          // The heartbeat retries the registration: the node registers again on its 404.
          this.o.onTrouble?.(`registering ${node.name}`, e as Error);
          this.retry(node);
        }
      }),
    );
  }

  /** Chaos: the node reports NotReady (or Ready again) now, not at its next heartbeat. */
  async setReady(name: string, ready: boolean): Promise<void> {
    const node = this.byName.get(name);
    if (!node || node.ready === ready) return;
    node.ready = ready;
    await this.o.budget.run('heartbeat', () => node.status.sync());
  }

  isReady(name: string): boolean | undefined {
    return this.byName.get(name)?.ready;
  }

  stop(): void {
    this.stopped = true;
    this.wheel.stop();
  }

  private beat(name: string): void {
    const node = this.byName.get(name);
    if (!node || this.stopped) return;
    this.o.budget
      .run('heartbeat', async () => {
        await node.lease.renew();
        // Usually no write: only a change or the report interval posts the status.
        await node.status.sync();
      })
      .then(
        () => {
          this.retries.forget(name);
          if (!this.stopped) this.wheel.schedule(name, this.renewIn());
        },
        (e: unknown) => {
          this.o.onTrouble?.(`heartbeat of ${name}`, e as Error);
          this.retry(node);
        },
      );
  }

  private retry(node: SimNode): void {
    if (!this.stopped) this.wheel.schedule(node.name, this.retries.when(node.name));
  }

  private renewIn(): number {
    return jittered(this.o.leaseRenewMs ?? 10_000, 0.04);
  }
}
