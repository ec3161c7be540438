import { labelKey } from './label-key.js';

/** Prometheus counters and gauges with labels, in the text exposition format. */
abstract class LabelledValue {
  protected readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly type: 'counter' | 'gauge',
  ) {}

  protected key(labels?: Record<string, string>): string {
    return labelKey(labels);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    for (const [labels, value] of this.values)
      lines.push(`${this.name}${labels ? `{${labels}}` : ''} ${value}`);
    return `${lines.join('\n')}\n`;
  }
}

export class Counter extends LabelledValue {
  constructor(name: string, help: string) {
    super(name, help, 'counter');
  }

  inc(labels?: Record<string, string>, by = 1): void {
    const k = this.key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
}

export class Gauge extends LabelledValue {
  constructor(name: string, help: string) {
    super(name, help, 'gauge');
  }

  set(value: number, labels?: Record<string, string>): void {
    this.values.set(this.key(labels), value);
  }
}
