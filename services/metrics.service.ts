import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Db } from '../db/database';
import { readModelGauges } from '../db/metrics.repository';

/** A process's metrics, in the Prometheus text format (prom-client). */
export type MetricsRegistry = Registry;

export const createMetricsRegistry = (): MetricsRegistry => new Registry();

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests the API answered, by method, route pattern and status, and their durations by route. */
export class RequestMetrics {
  private readonly total: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;

  constructor(registry: MetricsRegistry) {
    this.total = new Counter({
      name: 'duban_http_requests_total',
      help: 'Requests the API answered, by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'duban_http_request_duration_seconds',
      help: 'Time the API took to answer, by method and route.',
      labelNames: ['method', 'route'],
      buckets: durationBuckets,
      registers: [registry],
    });
  }

  record(sample: { method: string; route: string | null; status: number; seconds: number }): void {
    const route = sample.route ?? '(unmatched)';
    this.total.inc({ method: sample.method, route, status: String(sample.status) });
    this.duration.observe({ method: sample.method, route }, sample.seconds);
  }
}

const deliveryStatuses = ['pending', 'sending', 'sent', 'failed'];

/**
 * The read model's gauges (outbox backlog, overdue counts) in `registry`. They are read in one
 * query round by `refresh(now)`, which the operations endpoint runs before each scrape.
 */
export function readModelMetrics(registry: MetricsRegistry, db: Db): { refresh(now: Date): Promise<void> } {
  const registers = [registry];
  const deliveries = new Gauge({
    name: 'duban_outbox_deliveries',
    help: 'Notice deliveries in the outbox, by status (pending and sending are the backlog).',
    labelNames: ['status'],
    registers,
  });
  const backlog = new Gauge({ name: 'duban_outbox_backlog', help: 'Deliveries still owed (pending or sending).', registers });
  const oldestOwed = new Gauge({ name: 'duban_outbox_oldest_owed_age_seconds', help: 'Age of the oldest delivery still owed; 0 when none is.', registers });
  const unresolved = new Gauge({ name: 'duban_notices_unresolved', help: 'Notices whose recipients are not resolved yet (held until their event is on the server’s record, or pending).', registers });
  const openCases = new Gauge({ name: 'duban_cases_open', help: 'Open cases.', registers });
  const overdue = new Gauge({
    name: 'duban_tasks_overdue',
    help: 'Live tasks past their rectification deadline (clock running), by the escalation rung reached.',
    labelNames: ['rung'],
    registers,
  });
  const ackOverdue = new Gauge({ name: 'duban_tasks_ack_overdue', help: 'Tasks not acknowledged by their acknowledgement deadline.', registers });
  return {
    async refresh(now: Date): Promise<void> {
      const g = await readModelGauges(db, now.toISOString());
      deliveries.reset();
      for (const status of new Set([...deliveryStatuses, ...Object.keys(g.deliveries)])) deliveries.set({ status }, g.deliveries[status] ?? 0);
      backlog.set((g.deliveries.pending ?? 0) + (g.deliveries.sending ?? 0));
      oldestOwed.set(g.oldestOwedDeliveryAt === null ? 0 : Math.max(0, (now.getTime() - Date.parse(g.oldestOwedDeliveryAt)) / 1000));
      unresolved.set(g.pendingNotices);
      openCases.set(g.openCases);
      // Rungs no task is at any more are not reported as zero: they drop out.
      overdue.reset();
      for (const [rung, n] of Object.entries(g.overdueTasksByRung)) overdue.set({ rung }, n);
      ackOverdue.set(g.ackOverdueTasks);
    },
  };
}

/** A gauge read at each scrape: 1 while `value()` holds, else 0. */
export function flagGauge(registry: MetricsRegistry, name: string, help: string, value: () => boolean): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(value() ? 1 : 0);
    },
  });
}
