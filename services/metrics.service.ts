import type { Db } from '../db/database';
import { readModelGauges } from '../db/metrics.repository';

/** One metric and its samples, as the Prometheus text format writes them. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter' | 'histogram';
  readonly samples: readonly { readonly suffix?: string; readonly labels?: Readonly<Record<string, string>>; readonly value: number }[];
}

const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** The Prometheus text exposition format (version 0.0.4) of `families`. */
export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      const labelText = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
      lines.push(`${family.name}${sample.suffix ?? ''}${labelText} ${Number.isFinite(sample.value) ? sample.value : sample.value > 0 ? '+Inf' : '-Inf'}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The content type of {@link renderExposition}'s text. */
export const expositionContentType = 'text/plain; version=0.0.4; charset=utf-8';

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests the API answered, by method, route pattern and status, and their durations by route. */
export class RequestMetrics {
  private readonly counts = new Map<string, { method: string; route: string; status: string; n: number }>();
  private readonly durations = new Map<string, { method: string; route: string; buckets: number[]; sum: number; count: number }>();

  record(sample: { method: string; route: string | null; status: number; seconds: number }): void {
    const route = sample.route ?? '(unmatched)';
    const status = String(sample.status);
    const countKey = `${sample.method} ${route} ${status}`;
    const count = this.counts.get(countKey) ?? { method: sample.method, route, status, n: 0 };
    count.n += 1;
    this.counts.set(countKey, count);
    const durationKey = `${sample.method} ${route}`;
    const duration = this.durations.get(durationKey) ?? { method: sample.method, route, buckets: durationBuckets.map(() => 0), sum: 0, count: 0 };
    durationBuckets.forEach((bound, i) => {
      if (sample.seconds <= bound) duration.buckets[i]! += 1;
    });
    duration.sum += sample.seconds;
    duration.count += 1;
    this.durations.set(durationKey, duration);
  }

  families(): MetricFamily[] {
    return [
      {
        name: 'duban_http_requests_total',
        help: 'Requests the API answered, by method, route and status.',
        type: 'counter',
        samples: [...this.counts.values()].map((c) => ({ labels: { method: c.method, route: c.route, status: c.status }, value: c.n })),
      },
      {
        name: 'duban_http_request_duration_seconds',
        help: 'Time the API took to answer, by method and route.',
        type: 'histogram',
        samples: [...this.durations.values()].flatMap((d) => [
          ...durationBuckets.map((bound, i) => ({ suffix: '_bucket', labels: { method: d.method, route: d.route, le: String(bound) }, value: d.buckets[i]! })),
          { suffix: '_bucket', labels: { method: d.method, route: d.route, le: '+Inf' }, value: d.count },
          { suffix: '_sum', labels: { method: d.method, route: d.route }, value: d.sum },
          { suffix: '_count', labels: { method: d.method, route: d.route }, value: d.count },
        ]),
      },
    ];
  }
}

/** The read model's gauges (outbox backlog, overdue counts) as metric families, read at `now`. */
export async function readModelFamilies(db: Db, now: Date): Promise<MetricFamily[]> {
  const g = await readModelGauges(db, now.toISOString());
  const statuses = ['pending', 'sending', 'sent', 'failed'];
  const owed = (g.deliveries.pending ?? 0) + (g.deliveries.sending ?? 0);
  return [
    {
      name: 'duban_outbox_deliveries',
      help: 'Notice deliveries in the outbox, by status (pending and sending are the backlog).',
      type: 'gauge',
      samples: [...new Set([...statuses, ...Object.keys(g.deliveries)])].map((status) => ({ labels: { status }, value: g.deliveries[status] ?? 0 })),
    },
    { name: 'duban_outbox_backlog', help: 'Deliveries still owed (pending or sending).', type: 'gauge', samples: [{ value: owed }] },
    {
      name: 'duban_outbox_oldest_owed_age_seconds',
      help: 'Age of the oldest delivery still owed; 0 when none is.',
      type: 'gauge',
      samples: [{ value: g.oldestOwedDeliveryAt === null ? 0 : Math.max(0, (now.getTime() - Date.parse(g.oldestOwedDeliveryAt)) / 1000) }],
    },
    { name: 'duban_notices_unresolved', help: 'Notices whose recipients are not resolved yet.', type: 'gauge', samples: [{ value: g.pendingNotices }] },
    { name: 'duban_cases_open', help: 'Open cases.', type: 'gauge', samples: [{ value: g.openCases }] },
    {
      name: 'duban_tasks_overdue',
      help: 'Live tasks past their rectification deadline (clock running), by the escalation rung reached.',
      type: 'gauge',
      samples: Object.entries(g.overdueTasksByRung).map(([rung, n]) => ({ labels: { rung }, value: n })),
    },
    { name: 'duban_tasks_ack_overdue', help: 'Tasks not acknowledged by their acknowledgement deadline.', type: 'gauge', samples: [{ value: g.ackOverdueTasks }] },
  ];
}
