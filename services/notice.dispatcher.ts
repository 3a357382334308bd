import crypto from 'node:crypto';
import { DateTime } from 'luxon';
import type { Insertable } from 'kysely';
import { isOfficeOnly, type NoticeKind, type NoticeRole, type QuietHours, sendableAt } from '../domain/notice';
import { type EventAction, eventPayloadSchemas } from '../domain/event';
import { formatInstant, presentInstants } from '../domain/time';
import type { Db, Executor } from '../db/database';
import { appendEvents } from '../db/event.repository';
import { releaseAllHeldNotices } from '../db/journal.repository';
import {
  claimDueDeliveries,
  deferNotice,
  type DeliveryRow,
  dueNotices,
  insertDeliveries,
  insertNotices,
  nextDueAt,
  type NoticeRow,
  readdressDelivery,
  releaseClaims,
  renewClaim,
  setNoticeStatus,
  settleDelivery,
  subscribersFor,
} from '../db/notice.repository';
import type { DeliveryTable } from '../db/schema';
import { ChannelError, type MailChannel } from './mail.channel';
import { type NoticeLanguage, type NoticeRenderer, noticeKindLabels } from './notice.renderer';
import type { WebhookChannel } from './webhook.channel';

/** A person a notice goes to, as the directory knows them now. */
export interface NoticeRecipient {
  readonly id: string;
  readonly name: string;
  readonly language: NoticeLanguage;
  /** Null when the person has no e-mail address (then they cannot be reached by mail). */
  readonly email: string | null;
}

/** The complainant of a case opened from a complaint, as that complaint has them now (the office's eyes only). */
export interface Complainant {
  /** The complainant's key to their complaint: the tracking page and the rating are reached with it. */
  readonly trackingCode: string;
  readonly email: string | null;
  readonly phone: string | null;
  readonly language: NoticeLanguage;
}

/** How a complainant is named on the timeline and in the deliveries: never by their name, address or code. */
export const complainantRecipientName = '投诉人 / complainant';

/**
 * The people that hold a role for a notice: department roles in `department`, the responsible
 * person of `taskId` (or the department's liaison when it has none), the office's lead and clerks,
 * and the complainant of `caseId` (from its complaint; nobody when it left no contact data).
 */
export interface NoticeDirectory {
  recipients(role: NoticeRole, scope: { department: string | null; taskId: string | null; caseId: string | null }): Promise<NoticeRecipient[]>;
  /** Where the notice is about: names, titles and deadlines the templates show. */
  context(notice: NoticeRow): Promise<NoticeContext>;
  /**
   * Where a planned delivery goes now: the person's e-mail address (or the subscriber's URL) as
   * the directory has it at send time, or why it can no longer go (removed, no address).
   */
  currentAddress(delivery: Pick<DeliveryRow, 'recipient_kind' | 'recipient_id' | 'channel'>): Promise<{ address: string } | { gone: string }>;
}

/** What the templates need besides the event itself. */
export interface NoticeContext {
  readonly caseTitle: string;
  readonly departmentName: string | null;
  /** The departments a case-level notice (a closure) goes to, with their task. */
  readonly departments: readonly { department: string; taskId: string }[];
  readonly address: string | null;
  /** The task's rectification deadline as it stands now (UTC), for notices whose event has none. */
  readonly rectificationDueAt: string | null;
  /** The department a task was transferred to, by name. */
  readonly toDepartmentName: string | null;
  /** For a notice to the complainant: who they are now (never stored with the notice). */
  readonly complainant: Complainant | null;
}

export interface DispatcherDeps {
  readonly db: Db;
  readonly directory: NoticeDirectory;
  readonly renderer: NoticeRenderer;
  /** Absent when no SMTP server is configured: mail then waits. */
  readonly mail: MailChannel | null;
  readonly webhooks: WebhookChannel;
  /** The subscriber's signing secret. */
  readonly webhookSecret: (subscriberId: string) => string;
  readonly timeZone: string;
  readonly quietHours: () => QuietHours | null;
  /** When each department's daily digest goes out (HH:MM, office time); null: no digests. */
  readonly digestAt: () => string | null;
  /** Where links in notices point (the API's public address). */
  readonly publicUrl: string | null;
  readonly now?: () => Date;
  /** Tries before a delivery is failed for good. */
  readonly maxAttempts?: number;
  /** A claim held longer than this is renewed before its send (default a minute). */
  readonly renewAfterMs?: number;
  readonly log?: { warn(message: string, attributes?: Record<string, unknown>): void };
  /**
   * Confirms journal writes against the server's record and releases their held notices
   * (services/journal.confirm.ts); returns whether any remain unconfirmed. Absent (no Temporal
   * client), held notices are released at once.
   */
  readonly confirmJournals?: () => Promise<boolean>;
}

/** How one round runs. */
export interface DispatchOptions {
  /** At most this many notices planned and deliveries sent (default 50). */
  readonly batch?: number;
  /** Called between steps; throws to stop the round (e.g. once its activity was cancelled). */
  readonly progress?: () => void;
  /** The round's clock (the dispatcher workflow's time); default this process's. */
  readonly clock?: string | undefined;
  /** This round's claim id (default random). */
  readonly claimId?: string;
  /**
   * When (this process's clock, ms) the round should end: deliveries claimed but not yet sent by
   * then are given back, due at once, for the next round.
   */
  readonly deadline?: number;
  /**
   * Claims starting with this belong to earlier attempts of this very round, which are known to be
   * dead (Temporal retries an activity only once its attempt has failed or timed out): they are
   * taken over at once instead of after the lease.
   */
  readonly deadClaimPrefix?: string | null;
}

/** After this long a claim whose sender gave no answer is taken over (its worker died). */
export const claimLeaseMs = 5 * 60_000;

/** Backoff before try n+1: 1, 2, 4 … minutes, at most an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(60 * 60_000, 60_000 * 2 ** Math.max(0, attempts - 1));
}

/** A claim older than this is renewed before its send (well inside the lease, even after a slow send). */
const defaultRenewAfterMs = 60_000;

/** While journal writes are unconfirmed, the dispatcher looks again this soon (workflow tasks take milliseconds). */
const heldRecheckMs = 1_000;

/** An incomplete notice (a role had nobody reachable) is planned again, when the directory changes, for this long after its event (a digest: for its morning only). */
const replanForMs = (kind: string) => (kind === 'digest' ? 12 * 3_600_000 : 7 * 24 * 3_600_000);
/** A notice whose planning failed (the directory unreadable …) is tried again after this. */
const planRetryMs = 5 * 60_000;

const roleNames: Record<NoticeRole, string> = {
  responsible: '责任人 / responsible person',
  head: '主要负责人 / head',
  deputy: '分管领导 / deputy head',
  liaison: '联络员 / liaison',
  office_lead: '督办机构负责人 / office lead',
  office_clerk: '督办机构经办人 / office clerk',
  complainant: complainantRecipientName,
};

/**
 * Turns notices into deliveries and sends them: resolves who a due notice is for (from the
 * directory, now), plans one delivery per recipient and channel (and per webhook subscriber),
 * claims due deliveries and sends each at most once per claim, retrying with backoff until it is
 * sent or has failed for good. Every delivery sent or failed is on the case's timeline.
 */
export function createNoticeDispatcher(deps: DispatcherDeps) {
  const defaultNow = () => (deps.now ?? (() => new Date()))().toISOString();
  let now = defaultNow;
  const maxAttempts = deps.maxAttempts ?? 8;
  const renewAfterMs = deps.renewAfterMs ?? defaultRenewAfterMs;
  const channels = (): string[] => [...(deps.mail ? ['email'] : []), 'webhook'];

  async function plan(notice: NoticeRow): Promise<void> {
    const at = now();
    // Quiet hours are read now, with the policy in force: a notice that may wait is moved on.
    const sendable = sendableAt(at, deps.timeZone, deps.quietHours(), notice.urgent === 1);
    if (sendable > at && notice.not_before < sendable) {
      await deps.db.updateTable('notices').set({ not_before: sendable }).where('notice_key', '=', notice.notice_key).execute();
      return;
    }
    const context = await deps.directory.context(notice);
    const roles = JSON.parse(notice.roles) as NoticeRole[];
    // A notice that is the office's (and the complainant's) business goes to the office only: not
    // to the case's departments, nor to their webhook subscribers.
    const scopes = isOfficeOnly(notice.kind as NoticeKind)
      ? [{ department: null, taskId: null }]
      : notice.task_id || notice.department_code
        ? [{ department: notice.department_code, taskId: notice.task_id }]
        : context.departments.map((d) => ({ department: d.department, taskId: d.taskId }));
    const rows: Insertable<DeliveryTable>[] = [];
    const alerts = new Map<string, { department: string | null; roles: NoticeRole[] }>();
    const planned = new Set<string>();
    // A complainant who left no contact data is not reached at all, nor is the office alerted
    // (it has nothing to add): the tracking page remains their way.
    let complainant: NoticeRecipient | null = null;
    for (const scope of scopes) {
      for (const role of roles) {
        const people = await deps.directory.recipients(role, { ...scope, caseId: notice.case_id });
        if (role === 'complainant') {
          complainant = people[0] ?? null;
          if (complainant?.email) {
            const key = `${notice.notice_key}:${complainant.id}:email`;
            planned.add(key);
            rows.push(delivery(notice, key, 'complainant', complainant.id, complainant.name, role, 'email', complainant.email, complainant.language, at));
          }
          continue;
        }
        const reachable = people.filter((p) => p.email !== null);
        if (reachable.length === 0) {
          const unit = scope.department ?? 'office';
          const alert = alerts.get(unit) ?? { department: scope.department, roles: [] };
          alert.roles.push(role);
          alerts.set(unit, alert);
        }
        for (const person of reachable) {
          const key = `${notice.notice_key}:${person.id}:email`;
          if (planned.has(key)) continue;
          planned.add(key);
          rows.push(delivery(notice, key, 'person', person.id, person.name, role, 'email', person.email!, person.language, at));
        }
      }
      // The office's subscribers (an SMS gateway) reach a complainant who left contact data, in
      // their language; one who left none, nobody reaches.
      if (roles.includes('complainant') && complainant === null) continue;
      // An alert is the office's business: it goes to the office's subscribers, not the department's.
      for (const subscriber of await subscribersFor(deps.db, notice.kind === 'alert' ? null : scope.department)) {
        const key = `${notice.notice_key}:${subscriber.id}:webhook`;
        if (planned.has(key)) continue;
        planned.add(key);
        rows.push(delivery(notice, key, 'webhook', subscriber.id, subscriber.name, null, 'webhook', subscriber.url, complainant?.language ?? 'zh-CN', at));
      }
    }
    await deps.db.transaction().execute(async (trx) => {
      await insertDeliveries(trx, rows);
      // A role nobody holds (or nobody there can be reached) is the office's to fix: an alert.
      if (notice.kind !== 'alert') {
        // One alert per department a notice could not reach, naming every role it missed.
        await insertNotices(
          trx,
          [...alerts.values()].map((alert) => ({
            notice_key: `${notice.notice_key}:alert:${alert.department ?? 'office'}`,
            case_id: notice.case_id,
            task_id: notice.task_id,
            department_code: alert.department,
            kind: 'alert',
            roles: JSON.stringify(['office_clerk']),
            urgent: notice.urgent,
            event_action: notice.event_action,
            payload: JSON.stringify({ forKind: notice.kind, missingRole: alert.roles.map((r) => roleNames[r]).join('、') }),
            event_at: notice.event_at,
            status: 'pending',
            not_before: at,
            created_at: at,
          })),
        );
      }
      const undeliverable = rows.length === 0 && (notice.kind === 'alert' || alerts.size === 0);
      // A role that had nobody is looked at again for a while: once the office has completed the
      // directory, the people added get the notice (planning again plans nothing twice).
      const lookAgain = notice.kind !== 'alert' && alerts.size > 0 && Date.parse(at) - Date.parse(notice.event_at) < replanForMs(notice.kind);
      if (undeliverable && !lookAgain) await setNoticeStatus(trx, notice.notice_key, 'undeliverable');
      // Planned again when the directory changes (which makes it due), else once more as its window closes.
      else if (lookAgain) await setNoticeStatus(trx, notice.notice_key, 'incomplete', new Date(Date.parse(notice.event_at) + replanForMs(notice.kind)).toISOString());
      else await setNoticeStatus(trx, notice.notice_key, 'planned');
    });
    if (rows.length === 0 && notice.kind === 'alert') {
      deps.log?.warn('a notice reached nobody, and the office has no clerk to alert', { notice: notice.notice_key, kind: notice.kind });
    } else if (scopes.length === 0) {
      deps.log?.warn('a notice had no department to go to', { notice: notice.notice_key, kind: notice.kind });
    }
  }

  async function send(row: DeliveryRow, notice: NoticeRow, context: NoticeContext): Promise<void> {
    const data = templateData(row, notice, context);
    const rendered = deps.renderer.render(notice.kind as NoticeKind, row.language as NoticeLanguage, data);
    if (row.channel === 'email') {
      await deps.mail!.send({
        to: { name: row.recipient_name, address: row.address },
        ...rendered,
        messageId: `<${crypto.createHash('sha256').update(row.delivery_key).digest('hex').slice(0, 32)}@duban>`,
        urgent: notice.urgent === 1,
      });
    } else {
      await deps.webhooks.send({
        url: row.address,
        secret: deps.webhookSecret(row.recipient_id),
        deliveryId: row.id,
        kind: notice.kind,
        payload: {
          delivery: row.id,
          kind: notice.kind,
          urgent: notice.urgent === 1,
          caseId: notice.case_id,
          taskId: notice.task_id,
          department: notice.department_code,
          event: notice.event_action,
          at: formatInstant(notice.event_at, deps.timeZone),
          subject: rendered.subject,
          text: rendered.text,
          // The office's own system texts the complainant: it gets their phone number, read now.
          data: context.complainant ? { ...data, complainant: { phone: context.complainant.phone } } : data,
        },
      });
    }
  }

  function templateData(row: DeliveryRow, notice: NoticeRow, context: NoticeContext): Record<string, unknown> {
    const raw = JSON.parse(notice.payload) as Record<string, unknown>;
    // The event's own payload schema says which of its fields are instants: those are shown in
    // the office's zone, nothing else is touched.
    const schema = notice.event_action ? eventPayloadSchemas[notice.event_action as EventAction] : undefined;
    const payload = schema ? presentInstants(schema, raw, deps.timeZone) : raw;
    // An event that carries no deadline (a rejection, a person named) shows the task's as it stands.
    const rectificationDueAt =
      payload.rectificationDueAt ?? (context.rectificationDueAt ? formatInstant(context.rectificationDueAt, deps.timeZone) : null);
    const forKind = typeof payload.forKind === 'string' ? (payload.forKind as NoticeKind) : null;
    return {
      ...payload,
      rectificationDueAt,
      deadline: payload.dueAt ?? rectificationDueAt,
      deadlineKind: payload.deadline,
      level: payload.level,
      granted: notice.event_action === 'task.extension_granted' || notice.event_action === 'task.transferred',
      toDepartmentName: context.toDepartmentName ?? payload.toDepartment ?? null,
      forKindLabel: forKind ? (noticeKindLabels[forKind]?.[row.language as NoticeLanguage] ?? forKind) : null,
      request: notice.event_action === 'task.transfer_requested' ? 'transfer' : 'extension',
      caseId: notice.case_id,
      taskId: notice.task_id,
      caseTitle: context.caseTitle,
      departmentName: context.departmentName ?? notice.department_code ?? '',
      address: context.address,
      recipientName: row.recipient_name,
      urgent: notice.urgent === 1,
      link: deps.publicUrl && notice.case_id ? `${deps.publicUrl}/api/v1/cases/${notice.case_id}` : null,
      ...(context.complainant ? complainantLinks(context.complainant.trackingCode) : {}),
    };
  }

  /**
   * What a complainant needs to follow and rate: the tracking code, the public tracking page (the
   * link of the notice, in place of the case's, which needs a token) and where a rating is posted.
   */
  function complainantLinks(trackingCode: string) {
    // Without a public address, the path still says where to go; the link (a button) needs the address.
    const trackingUrl = `${deps.publicUrl ?? ''}/api/v1/complaints/${trackingCode}`;
    return { trackingCode, trackingUrl, ratingUrl: `${trackingUrl}/rating`, link: deps.publicUrl ? trackingUrl : null, linkKind: 'tracking' };
  }

  /**
   * Settles a claimed delivery and, when it is final, puts it on the case's timeline, in one
   * transaction: a crash leaves both or neither. False when the claim was no longer this round's.
   * The timeline shows `summary` (a status code, a class of fault), never the server's whole
   * answer, which can name addresses; that stays on the delivery, for the office.
   */
  async function settle(
    row: DeliveryRow,
    notice: NoticeRow,
    claimId: string,
    outcome: Parameters<typeof settleDelivery>[3],
    summary: string | null = null,
  ): Promise<boolean> {
    return deps.db.transaction().execute(async (trx) => {
      if (!(await settleDelivery(trx, row.delivery_key, claimId, outcome))) return false;
      if (outcome.status !== 'pending') await record(trx, row, notice, outcome.status, summary, outcome.at);
      return true;
    });
  }

  async function record(db: Executor, row: DeliveryRow, notice: NoticeRow, outcome: 'sent' | 'failed', error: string | null, at: string): Promise<void> {
    // A digest belongs to no one case's timeline; its delivery is followed in the deliveries list.
    if (notice.case_id === null) return;
    // The timeline names who was reached and how, never their address. A delivery is sent once,
    // but may fail once per claim (the office can retry a failed one).
    await appendEvents(
      db,
      [
        {
          key: outcome === 'sent' ? `${row.delivery_key}#sent` : `${row.delivery_key}#failed@${row.claimed_at ?? at}`,
          caseId: notice.case_id,
          event: {
            action: outcome === 'sent' ? 'notice.sent' : 'notice.failed',
            actor: { role: 'system', name: 'duban' },
            at,
            taskId: notice.task_id,
            payload: {
              kind: notice.kind,
              channel: row.channel,
              recipient: row.recipient_name,
              role: row.role,
              attempts: row.attempts + 1,
              ...(error ? { error } : {}),
            },
          },
        },
      ],
      at,
    );
  }

  /** The instant of today's digest (office time), or null when there are none. */
  function digestInstant(at: string): string | null {
    const time = deps.digestAt();
    if (!time) return null;
    const local = DateTime.fromISO(at, { zone: 'utc' }).setZone(deps.timeZone);
    return local.set({ hour: Number(time.slice(0, 2)), minute: Number(time.slice(3, 5)), second: 0, millisecond: 0 }).toUTC().toISO()!;
  }

  /** Once the day's digest time has come: a digest notice per department with open tasks (once a day, by key). */
  async function queueDigests(at: string): Promise<void> {
    const due = digestInstant(at);
    // A digest is about the morning it is for: one that could not go out within twelve hours of
    // its time (the digest turned on late in the day, a worker down) is skipped for the next.
    if (!due || at < due || Date.parse(at) - Date.parse(due) > 12 * 3_600_000) return;
    const day = DateTime.fromISO(at, { zone: 'utc' }).setZone(deps.timeZone).toISODate()!;
    const open = await deps.db
      .selectFrom('tasks')
      .innerJoin('cases', 'cases.id', 'tasks.case_id')
      .select(['tasks.department_code', 'tasks.case_id', 'cases.title', 'tasks.status', 'tasks.rectification_due_at', 'tasks.suspended_since'])
      .where('tasks.status', 'in', ['assigned', 'acknowledged', 'submitted', 'rework'])
      .orderBy('tasks.rectification_due_at')
      .execute();
    const byDepartment = new Map<string, typeof open>();
    for (const task of open) byDepartment.set(task.department_code, [...(byDepartment.get(task.department_code) ?? []), task]);
    const statusNames: Record<string, string> = { assigned: '待签收', acknowledged: '整改中', submitted: '待核查', rework: '返工中' };
    await insertNotices(
      deps.db,
      [...byDepartment].map(([department, tasks]) => ({
        notice_key: `digest:${department}:${day}`,
        case_id: null,
        task_id: null,
        department_code: department,
        kind: 'digest',
        roles: JSON.stringify(['liaison']),
        urgent: 0,
        event_action: null,
        payload: JSON.stringify({
          asOf: formatInstant(at, deps.timeZone),
          tasks: tasks.map((t) => ({
            caseId: t.case_id,
            caseTitle: t.title,
            status: statusNames[t.status] ?? t.status,
            dueAt: t.rectification_due_at ? formatInstant(t.rectification_due_at, deps.timeZone) : null,
            overdue: t.suspended_since === null && t.status !== 'submitted' && t.rectification_due_at !== null && t.rectification_due_at < at,
          })),
        }),
        event_at: at,
        status: 'pending',
        not_before: at,
        created_at: at,
      })),
    );
  }

  /** Confirms what it can of the journal writes; returns whether any stay unconfirmed (their notices held). */
  async function confirmJournals(): Promise<boolean> {
    if (!deps.confirmJournals) {
      await releaseAllHeldNotices(deps.db);
      return false;
    }
    return deps.confirmJournals();
  }

  /** When the next digest falls due: today's if still ahead, else tomorrow's. */
  function nextDigestAt(at: string): string | null {
    const today = digestInstant(at);
    if (!today) return null;
    return today > at ? today : DateTime.fromISO(today).plus({ days: 1 }).toUTC().toISO()!;
  }

  return {
    /**
     * One round: queues the day's digests when their time has come, plans the due notices, sends the due deliveries. Returns whether more is due at
     * once (a full batch) and when something falls due next.
     */
    async dispatch(round: DispatchOptions = {}): Promise<{ planned: number; sent: number; failed: number; more: boolean; nextAt: string | null }> {
      const batch = round.batch ?? 50;
      const progress = round.progress ?? (() => undefined);
      const clock = round.clock;
      // The round's clock: the dispatcher workflow's time when given (so that quiet hours, digests
      // and backoff follow the workflow's durable timers), else this process's.
      const started = Date.now();
      now = clock ? () => new Date(Date.parse(clock) + (Date.now() - started)).toISOString() : defaultNow;
      const unconfirmed = await confirmJournals();
      await queueDigests(now());
      const notices = await dueNotices(deps.db, now(), batch);
      for (const notice of notices) {
        progress();
        try {
          await plan(notice);
        } catch (error) {
          // One notice that cannot be planned holds up no other: it is tried again later.
          deps.log?.warn('a notice could not be planned; trying again in five minutes', { notice: notice.notice_key, error: (error as Error).message });
          await deferNotice(deps.db, notice.notice_key, new Date(Date.parse(now()) + planRetryMs).toISOString());
        }
      }
      const claimId = round.claimId ?? crypto.randomUUID();
      const at = now();
      const claimed = await claimDueDeliveries(deps.db, {
        now: at,
        claimId,
        limit: batch,
        channels: channels(),
        staleBefore: new Date(Date.parse(at) - claimLeaseMs).toISOString(),
        deadClaimPrefix: round.deadClaimPrefix ?? null,
      });
      let sent = 0;
      let failed = 0;
      let outOfTime = false;
      const noticeRows = new Map<string, NoticeRow>();
      const contexts = new Map<string, NoticeContext>();
      for (const claimedRow of claimed) {
        progress();
        // Out of time: what is left goes back to the queue, due at once, for the next round.
        if (round.deadline !== undefined && Date.now() >= round.deadline) {
          await releaseClaims(deps.db, claimId, now());
          outOfTime = true;
          break;
        }
        // A claim held for a while (a slow round) is renewed before its send, so that its lease
        // cannot run out during the send; one taken over meanwhile is not sent. (A fresh claim
        // cannot have been taken over: the lease is minutes long, and a round whose attempt was
        // given up on stops at `progress`.)
        let row = claimedRow;
        const held = Date.parse(now()) - Date.parse(row.claimed_at ?? now());
        if (held > renewAfterMs) {
          const renewedAt = now();
          if (!(await renewClaim(deps.db, row.delivery_key, claimId, renewedAt))) continue;
          row = { ...row, claimed_at: renewedAt };
        }
        let notice = noticeRows.get(row.notice_key);
        if (!notice) {
          notice = await deps.db.selectFrom('notices').selectAll().where('notice_key', '=', row.notice_key).executeTakeFirstOrThrow();
          noticeRows.set(row.notice_key, notice);
        }
        try {
          let context = contexts.get(row.notice_key);
          if (!context) {
            context = await deps.directory.context(notice);
            contexts.set(row.notice_key, context);
          }
          // The address as the directory has it now: a corrected e-mail address is used, a person
          // removed (or a subscriber stopped) fails the delivery for good.
          const target = await deps.directory.currentAddress(row);
          if ('gone' in target) throw new ChannelError(target.gone, true, target.gone);
          if (target.address !== row.address) {
            await readdressDelivery(deps.db, row.delivery_key, target.address);
            row = { ...row, address: target.address };
          }
          await send(row, notice, context);
        } catch (error) {
          const done = now();
          const message = (error as Error).message.slice(0, 500);
          const summary = error instanceof ChannelError ? error.summary : 'internal error';
          const permanent = error instanceof ChannelError ? error.permanent : false;
          if (permanent || row.attempts + 1 >= maxAttempts) {
            if (await settle(row, notice, claimId, { status: 'failed', at: done, error: message }, summary)) failed++;
          } else {
            // The next try, after the backoff, and for a notice that may wait, after quiet hours.
            const next = new Date(Date.parse(done) + backoffMs(row.attempts + 1)).toISOString();
            const nextAttemptAt = sendableAt(next, deps.timeZone, deps.quietHours(), notice.urgent === 1);
            await settle(row, notice, claimId, { status: 'pending', at: done, error: message, nextAttemptAt });
          }
          continue;
        }
        if (await settle(row, notice, claimId, { status: 'sent', at: now() })) sent++;
      }
      const more = outOfTime || notices.length === batch || claimed.length === batch;
      const heldAgainAt = unconfirmed ? new Date(Date.parse(now()) + heldRecheckMs).toISOString() : null;
      const next = [await nextDueAt(deps.db, channels(), claimLeaseMs), nextDigestAt(now()), heldAgainAt].filter((x): x is string => x !== null).sort()[0] ?? null;
      return { planned: notices.length, sent, failed, more, nextAt: next };
    },
  };
}
export type NoticeDispatcher = ReturnType<typeof createNoticeDispatcher>;

/** A delivery's short id: stable for its key, fit for a URL. */
export function deliveryId(key: string): string {
  return `dl_${crypto.createHash('sha256').update(key).digest('base64url').slice(0, 16)}`;
}

function delivery(
  notice: NoticeRow,
  key: string,
  kind: 'person' | 'complainant' | 'webhook',
  id: string,
  name: string,
  role: NoticeRole | null,
  channel: 'email' | 'webhook',
  address: string,
  language: string,
  at: string,
): Insertable<DeliveryTable> {
  return {
    delivery_key: key,
    id: deliveryId(key),
    notice_key: notice.notice_key,
    recipient_kind: kind,
    recipient_id: id,
    recipient_name: name,
    role,
    channel,
    address,
    language,
    status: 'pending',
    attempts: 0,
    next_attempt_at: at,
    last_error: null,
    claim_id: null,
    claimed_at: null,
    sent_at: null,
    created_at: at,
    updated_at: at,
  };
}
