import { type ApiClient, ApiError, resourcePath } from '@app/client';

import { type ApiObject, type Node, type NodeStatus } from '../api-types.js';
import { type NodeFacts } from './node-facts.js';
import {
  defaultNodeLabels,
  type NodeHealth,
  type NodeRegistration,
  initialNode,
  nodeConditions,
  nodeStatus,
  nodeStatusChanged,
} from './node-status.js';

export interface NodeStatusReporterOptions {
  registration: NodeRegistration;
  facts: () => Promise<NodeFacts>;
  health: () => Promise<NodeHealth>;
  /** nodeStatusReportFrequency: post an unchanged status this often (5 min upstream). */
  reportEveryMs?: number;
  /**
   * Take the status sent with the Node's create as posted, so registering is one write (the
   * API keeps a Node's status on create). The kubelet posts it again on its first sync; kwok's
   * simulated nodes do not, and thousands of registrations make the difference count.
   */
  createdStatusCounts?: boolean;
  now?: () => Date;
}

/**
 * Registers the node and keeps its status (pkg/kubelet/kubelet_node_status.go): computed on
 * every sync, written when it changed or when the report interval passed, so a quiet node
 * costs one small write per interval and its Lease carries the heartbeat in between.
 */
export class NodeStatusReporter {
  private posted?: NodeStatus;
  private postedAt = 0;
  private uid?: string;
  private readonly nodesPath = resourcePath({ group: '', version: 'v1', plural: 'nodes' });

  constructor(
    private readonly api: ApiClient,
    private readonly o: NodeStatusReporterOptions,
  ) {}

  get nodeUid(): string | undefined {
    return this.uid;
  }

  /** Creates the Node, or adopts the one a previous run registered and refreshes its labels. */
  async register(): Promise<Node> {
    const status = await this.computeStatus();
    const r = this.o.registration;
    let node: Node;
    try {
      node = await this.api.create<ApiObject<Node>>(this.nodesPath, initialNode(r, status));
      if (this.o.createdStatusCounts) {
        this.uid = node.metadata?.uid;
        this.posted = status;
        this.postedAt = (this.o.now?.() ?? new Date()).getTime();
        return node;
      }
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 409) throw e;
      // Registered before (an agent restart): keep what others set, refresh the kubelet's own labels.
      node = await this.api.patch<ApiObject<Node>>(this.nodePath(), {
        metadata: { labels: { ...defaultNodeLabels(r.nodeName), ...r.labels } },
      });
    }
    this.uid = node.metadata?.uid;
    this.posted = undefined;
    await this.sync();
    return node;
  }

  /** One status sync: writes only a change, or the periodic report. Returns whether it wrote. */
  async sync(): Promise<boolean> {
    const next = await this.computeStatus();
    const now = (this.o.now?.() ?? new Date()).getTime();
    const due = now - this.postedAt >= (this.o.reportEveryMs ?? 300_000);
    if (!due && !nodeStatusChanged(this.posted, next)) return false;
    try {
      const node = await this.api.patch<ApiObject<Node>>(`${this.nodePath()}/status`, {
        status: next,
      });
      this.uid = node.metadata?.uid;
    } catch (e) {
      // The Node was deleted under a running agent: register it again rather than go dark.
      if (e instanceof ApiError && e.code === 404) {
        await this.register();
        return true;
      }
      throw e;
    }
    this.posted = next;
    this.postedAt = now;
    return true;
  }

  private async computeStatus(): Promise<NodeStatus> {
    const [facts, health] = await Promise.all([this.o.facts(), this.o.health()]);
    const conditions = nodeConditions(health, this.posted?.conditions ?? [], this.o.now?.() ?? new Date());
    return nodeStatus(facts, conditions);
  }

  private nodePath(): string {
    return `${this.nodesPath}/${encodeURIComponent(this.o.registration.nodeName)}`;
  }
}
