import type { Executor } from './database';

/** What operations watch in the read model at one instant. */
export interface ReadModelGauges {
  /** Deliveries by status (pending, sending, sent, failed). */
  readonly deliveries: Readonly<Record<string, number>>;
  /** When the oldest delivery still owed (pending or sending) was planned; null when none is. */
  readonly oldestOwedDeliveryAt: string | null;
  /** Notices whose recipients are not resolved yet. */
  readonly pendingNotices: number;
  readonly openCases: number;
  /** Live tasks past their rectification deadline with their clock running, by escalation rung reached. */
  readonly overdueTasksByRung: Readonly<Record<string, number>>;
  /** Tasks not acknowledged by their acknowledgement deadline. */
  readonly ackOverdueTasks: number;
}

/** Statuses in which the department owes work, so its rectification deadline runs. */
const owingWork = ['assigned', 'acknowledged', 'rework'];

/** The gauges of {@link ReadModelGauges} at `now`: a few aggregate queries over indexed columns. */
export async function readModelGauges(db: Executor, now: string): Promise<ReadModelGauges> {
  const deliveries = await db.selectFrom('deliveries').select(['status', db.fn.countAll<number>().as('n')]).groupBy('status').execute();
  const oldest = await db
    .selectFrom('deliveries')
    .select(db.fn.min<string>('created_at').as('at'))
    .where('status', 'in', ['pending', 'sending'])
    .executeTakeFirst();
  const notices = await db.selectFrom('notices').select(db.fn.countAll<number>().as('n')).where('status', 'in', ['held', 'pending']).executeTakeFirstOrThrow();
  const cases = await db.selectFrom('cases').select(db.fn.countAll<number>().as('n')).where('status', '=', 'open').executeTakeFirstOrThrow();
  const live = db
    .selectFrom('tasks')
    .innerJoin('cases', 'cases.id', 'tasks.case_id')
    .where('cases.status', '=', 'open')
    .where('tasks.suspended_since', 'is', null);
  const overdue = await live
    .select(['tasks.escalation_level as rung', db.fn.countAll<number>().as('n')])
    .where('tasks.status', 'in', owingWork)
    .where('tasks.rectification_due_at', '<', now)
    .groupBy('tasks.escalation_level')
    .execute();
  const ackOverdue = await live
    .select(db.fn.countAll<number>().as('n'))
    .where('tasks.status', '=', 'assigned')
    .where('tasks.ack_due_at', '<', now)
    .executeTakeFirstOrThrow();
  return {
    deliveries: Object.fromEntries(deliveries.map((r) => [r.status, Number(r.n)])),
    oldestOwedDeliveryAt: oldest?.at ?? null,
    pendingNotices: Number(notices.n),
    openCases: Number(cases.n),
    overdueTasksByRung: Object.fromEntries(overdue.map((r) => [String(r.rung), Number(r.n)])),
    ackOverdueTasks: Number(ackOverdue.n),
  };
}
