/**
 * A minimal metrics registry rendered in the Prometheus text format on `GET /_metrics`.
 * Counters only, with a fixed label set per counter; enough for the few events operators
 * must be able to alert on, without a dependency.
 */

type Labels = Readonly<Record<string, string>>;

interface Counter {
  readonly help: string;
  readonly values: Map<string, { labels: Labels; value: number }>;
}

export const METRICS_PATH = '/_metrics';

export class Metrics {
  readonly #counters = new Map<string, Counter>();

  /** Declares a counter (idempotent). Names follow Prometheus conventions (`*_total`). */
  counter(name: string, help: string): void {
    if (!this.#counters.has(name)) this.#counters.set(name, { help, values: new Map() });
  }

  /** Adds `by` (default 1) to the counter for these labels; an undeclared counter is a bug. */
  inc(name: string, labels: Labels = {}, by = 1): void {
    const c = this.#counters.get(name);
    if (c === undefined) throw new Error(`metric ${name} is not declared`);
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    const cur = c.values.get(key);
    if (cur === undefined) c.values.set(key, { labels, value: by });
    else cur.value += by;
  }

  /** The current value (0 when never incremented). */
  value(name: string, labels: Labels = {}): number {
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    return this.#counters.get(name)?.values.get(key)?.value ?? 0;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [name, c] of this.#counters) {
      lines.push(`# HELP ${name} ${c.help}`, `# TYPE ${name} counter`);
      if (c.values.size === 0) lines.push(`${name} 0`);
      for (const { labels, value } of c.values.values()) lines.push(`${name}${renderLabels(labels)} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function renderLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** The counters of this service. */
export const FOREIGN_REJECTED = 'zaqar_bridge_foreign_messages_rejected_total';
/** Webhook deliveries (one message to one subscriber) by `outcome`: delivered, failed, dropped. */
export const WEBHOOK_DELIVERIES = 'zaqar_bridge_webhook_deliveries_total';

/** What the core did on its own, by event (catalogue snapshots written, failed, restored; a missing catalogue head). */
export const CORE_EVENTS = 'zaqar_bridge_core_events_total';

export function createMetrics(): Metrics {
  const m = new Metrics();
  m.counter(FOREIGN_REJECTED, 'Messages published straight to the broker that were not stored, by outcome (dead_lettered, dropped, not_json).');
  m.counter(CORE_EVENTS, 'What the core did on its own, by event: catalog_snapshot_written, catalog_snapshot_failed, catalog_restored, catalog_snapshot_invalid, catalog_head_missing (alert on the last two and on failures).');
  m.counter(WEBHOOK_DELIVERIES, 'Webhook deliveries (one message to one subscriber) by outcome (delivered, failed after the retry policy, dropped when too many are in flight or at shutdown).');
  return m;
}
