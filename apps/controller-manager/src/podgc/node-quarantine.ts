/**
 * gc_controller.go's nodeQueue (a delaying queue fed with AddAfter(node, quarantineTime)): a
 * node name pods are bound to but the node cache lacks becomes due `quarantineMs` after it was
 * first seen missing, so a node that is only late to reach the informer is not taken for gone.
 * As with a delaying queue, adding a name already waiting does not push its time back.
 */
export class NodeQuarantine {
  private readonly dueAt = new Map<string, number>();

  constructor(private readonly quarantineMs: number) {}

  add(node: string, now: number): void {
    if (!this.dueAt.has(node)) this.dueAt.set(node, now + this.quarantineMs);
  }

  /** The names whose quarantine is over, taken out of the queue (discoverDeletedNodes drains it). */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (const [node, at] of this.dueAt)
      if (at <= now) {
        due.push(node);
        this.dueAt.delete(node);
      }
    return due;
  }
}
