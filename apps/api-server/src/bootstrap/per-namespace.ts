import { type KindCache } from '../cache/kind-cache.js';

/**
 * Keeps something true in every namespace, level-triggered: a pass over all namespaces at
 * start, then one namespace at a time as namespaces are added. Reconciles run one after
 * another, in the order namespaces were seen; a failing one is reported and the next runs.
 */
export abstract class PerNamespaceReconciler {
  private unsubscribe?: () => void;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    /** The namespaces admission already keeps in memory: no list or watch of its own. */
    private readonly namespaces: KindCache,
    private readonly onError: (e: unknown) => void,
  ) {}

  async start(): Promise<void> {
    this.unsubscribe = this.namespaces.onChange((type, ns) => {
      if (type === 'ADDED') this.enqueue(String(ns.metadata.name));
    });
    for (const ns of this.namespaces.list()) this.enqueue(String(ns.metadata.name));
    await this.queue;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.queue;
  }

  protected abstract reconcile(namespace: string): Promise<void>;

  protected enqueue(namespace: string): void {
    this.queue = this.queue.then(() => this.reconcile(namespace)).catch(this.onError);
  }
}
