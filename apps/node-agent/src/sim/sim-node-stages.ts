import { type CacheChange, type Informer } from '@app/client';

import { type ApiObject, type Node } from '../api-types.js';
import { type SimNodes } from './sim-nodes.js';
import { matches } from './stage-selector.js';
import { selectStage, type Stage, stageDelay } from './stages.js';
import { TimerWheel } from './timer-wheel.js';

/**
 * Node stages (the chaos ones: node-not-ready, node-recover) on this process's nodes: a node's
 * labels, seen on the nodes informer, select a stage, which after its delay changes the node's
 * health; its status report then says so, as the kubelet's would.
 */
export class SimNodeStages {
  private readonly wheel: TimerWheel<string>;
  private readonly planned = new Map<string, Stage>();
  private readonly stages: Stage[];

  constructor(
    private readonly informer: Informer<ApiObject<Node>>,
    private readonly nodes: SimNodes,
    stages: readonly Stage[],
    private readonly onTrouble?: (what: string, e: Error) => void,
    tickMs = 50,
  ) {
    this.stages = stages.filter((s) => s.resource === 'Node');
    this.wheel = new TimerWheel({ tickMs, onDue: (names) => names.forEach((n) => this.fire(n)) });
    informer.onChange((c) => this.changed(c));
  }

  start(): void {
    this.wheel.start();
  }

  stop(): void {
    this.wheel.stop();
  }

  private changed(c: CacheChange<ApiObject<Node>>): void {
    const name = c.object.metadata.name as string;
    if (!this.nodes.has(name)) return;
    if (c.type === 'deleted') {
      this.wheel.cancel(name);
      this.planned.delete(name);
      return;
    }
    const stage = selectStage(this.stages, c.object);
    if (stage && this.planned.get(name) === stage && this.wheel.has(name)) return;
    if (!stage) {
      this.planned.delete(name);
      return this.wheel.cancel(name);
    }
    this.planned.set(name, stage);
    this.wheel.schedule(name, stageDelay(stage, c.object));
  }

  private fire(name: string): void {
    const stage = this.planned.get(name);
    const node = this.informer.cache.get(name);
    this.planned.delete(name);
    if (!stage || !node || !matches(stage.selector, node) || stage.next.nodeReady === undefined) return;
    this.nodes
      .setReady(name, stage.next.nodeReady)
      .catch((e: unknown) => this.onTrouble?.(`stage ${stage.name} of node ${name}`, e as Error));
  }
}
