import crypto from 'node:crypto';
import { DateTime } from 'luxon';
import { z } from 'zod';
import { type AssessmentRules, assessmentRulesSchema, type AssessmentRulesVersion, defaultAssessmentRules, rulesInForce } from '../domain/assessment';
import {
  type BulletinAddition,
  bulletinAdditionSchema,
  bulletinNumber,
  type BulletinPeriodKind,
  bulletinRemovalSchema,
  checkRemoval,
  composeDraft,
  decidedItems,
  periodBefore,
  periodSchema,
  type StoredDecision,
  trendPeriods,
} from '../domain/bulletin';
import type { BulletinDecision, BulletinDocument, BulletinItem } from '../domain/bulletin.types';
import type { Actor } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import type { DepartmentIndicators, Period } from '../domain/indicator.types';
import { text } from '../domain/text';
import { parseInput } from '../domain/validation';
import {
  type BulletinRow,
  caseCounts,
  caseForItem,
  closureCandidates,
  criticismCandidates,
  findBulletin,
  findBulletinByOrigin,
  findBulletinVersions,
  insertAssessmentRules,
  insertBulletin,
  listAssessmentRules,
  listBulletins,
  markEscalationsPublished,
  nextBulletinSequence,
  supersede,
  taskForItem,
  updateDraft,
} from '../db/bulletin.repository';
import type { Db } from '../db/database';
import { isBusy, isUniqueViolation } from '../db/errors';

/** The indicators of every department for each period of series (services/indicator.service.ts). */
export interface IndicatorSource {
  series(seriesList: readonly (readonly Period[])[]): Promise<DepartmentIndicators[][][]>;
}


/** A bulletin as the office sees it: the document and how it came about. */
export interface BulletinView {
  readonly id: string;
  readonly status: 'draft' | 'published' | 'superseded' | 'discarded';
  readonly origin: 'schedule' | 'office' | 'correction';
  /** A draft's revision: each change bumps it. */
  readonly revision: number;
  readonly period: Period;
  readonly number: string | null;
  readonly version: number;
  readonly correctsId: string | null;
  readonly rulesVersion: number | null;
  readonly document: BulletinDocument;
  readonly proposedItems: readonly BulletinItem[];
  readonly decisions: readonly BulletinDecision[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly publishedBy: string | null;
  readonly publishedAt: string | null;
}

/** A published bulletin version as anyone may read it. */
export interface PublishedBulletin {
  readonly id: string;
  readonly year: number;
  readonly sequence: number;
  readonly version: number;
  readonly status: 'published' | 'superseded';
  readonly document: BulletinDocument;
  readonly publishedAt: string;
}

export const assessmentRulesInputSchema = z
  .object({
    effectiveFrom: z.iso.date(),
    rules: assessmentRulesSchema,
    note: text(500).nullable().default(null),
  })
  .strict();

export const correctionInputSchema = z.object({ reason: text(1000), refresh: z.boolean().default(false) }).strict();
export const discardInputSchema = z.object({ reason: text(500) }).strict();

const trendLength = 6;

const newBulletinId = () => `bl_${crypto.randomBytes(6).toString('hex')}`;

function toView(row: BulletinRow): BulletinView {
  const decisions = JSON.parse(row.decisions) as StoredDecision[];
  return {
    id: row.id,
    status: row.status as BulletinView['status'],
    origin: row.origin as BulletinView['origin'],
    revision: row.revision,
    period: { from: row.period_from, to: row.period_to },
    number: row.year !== null && row.sequence !== null ? bulletinNumber(row.year, row.sequence) : null,
    version: row.version,
    correctsId: row.corrects_id,
    rulesVersion: row.rules_version,
    document: JSON.parse(row.document) as BulletinDocument,
    proposedItems: JSON.parse(row.proposed_items) as BulletinItem[],
    decisions: decisions.map(({ item: _item, ...d }) => d),
    createdBy: row.created_by,
    createdAt: row.created_at,
    publishedBy: row.published_by,
    publishedAt: row.published_at,
  };
}

function toPublished(row: BulletinRow): PublishedBulletin {
  return {
    id: row.id,
    year: row.year!,
    sequence: row.sequence!,
    version: row.version,
    status: row.status as 'published' | 'superseded',
    document: JSON.parse(row.document) as BulletinDocument,
    publishedAt: row.published_at!,
  };
}

const notFound = (id: string): never => {
  throw new DomainError('not_found', `通报 ${id} 不存在 / bulletin ${id} not found`);
};

const notDraft = (row: BulletinRow): never => {
  throw new DomainError('invalid_state', `通报 ${row.id} 当前为 ${row.status}，不能修改 / bulletin ${row.id} is ${row.status}: only a draft changes`);
};

const actorName = (actor: Actor) => (actor.role === 'department' ? `${actor.department}:${actor.name}` : actor.name);

/**
 * Bulletins (定期通报): drafts from the audit trail (on the schedule, or when the office asks), the
 * office's decisions on them, publication with a number, and corrections as new versions.
 */
export function createBulletinService(deps: { db: Db; zone: string; indicators: IndicatorSource; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const { db, zone } = deps;
  const startOf = (date: string) => DateTime.fromISO(date, { zone }).startOf('day').toUTC().toISO()!;
  const endOf = (date: string) => DateTime.fromISO(date, { zone }).plus({ days: 1 }).startOf('day').toUTC().toISO()!;
  const today = () => DateTime.fromJSDate(now(), { zone }).toISODate()!;

  async function rulesFor(date: string): Promise<{ rules: AssessmentRules; version: AssessmentRulesVersion | null }> {
    const version = rulesInForce(await listAssessmentRules(db), date);
    return { rules: version?.rules ?? defaultAssessmentRules, version };
  }

  /** Reads a draft, applies `change` to it and writes it if nobody changed it meanwhile (a few tries). */
  async function changeDraft(id: string, change: (row: BulletinRow) => Partial<BulletinRow> | Promise<Partial<BulletinRow>>): Promise<BulletinView> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const row = (await findBulletin(db, id)) ?? notFound(id);
      if (row.status !== 'draft') notDraft(row);
      const changes = await change(row);
      if (await updateDraft(db, id, row.revision, { ...changes, updated_at: now().toISOString() })) return toView((await findBulletin(db, id))!);
    }
    throw new DomainError('conflict', `通报 ${id} 正被同时修改，请重试 / bulletin ${id} is being changed concurrently: try again`);
  }

  function withItems(row: BulletinRow, decisions: readonly StoredDecision[]): string {
    const document = JSON.parse(row.document) as BulletinDocument;
    const proposed = JSON.parse(row.proposed_items) as BulletinItem[];
    return JSON.stringify({ ...document, items: decidedItems(proposed, decisions) });
  }

  /** The content of a draft of `period`, from the audit trail and the rules in force on its first day. */
  async function compose(period: Period): Promise<{ document: BulletinDocument; proposed: BulletinItem[]; rulesVersion: number | null }> {
    const { rules, version } = await rulesFor(period.from);
    const periods = trendPeriods(period, trendLength);
    const [series] = await deps.indicators.series([periods]);
    const trend = periods.map((p, i) => ({ period: p, indicators: series![i]! }));
    const indicators = trend[trend.length - 1]!.indicators;
    const from = startOf(period.from);
    const to = endOf(period.to);
    const counts = await caseCounts(db, from, to);
    const { document, proposed } = composeDraft({
      period,
      zone,
      indicators,
      trend,
      rules,
      criticisms: await criticismCandidates(db, from, to),
      closures: await closureCandidates(db, from, to),
      casesOpened: counts.opened,
      casesClosed: counts.closed,
    });
    return { document, proposed, rulesVersion: version?.version ?? null };
  }

  const service = {
    /* Assessment rules */

    listRules: () => listAssessmentRules(db),

    /** The rules in force on `date` (YYYY-MM-DD): the version, or the defaults. */
    rulesFor,

    /**
     * Adds a version of the rules, in force from its date on. The date may not be in the past:
     * a period already begun keeps the rules it was scored by.
     */
    async addRules(input: unknown, actor: Actor): Promise<AssessmentRulesVersion> {
      const parsed = parseInput(assessmentRulesInputSchema, input, 'assessment rules');
      if (parsed.effectiveFrom < today()) {
        throw new DomainError('invalid_input', `effectiveFrom: 不能早于今天 ${today()} / cannot be before today (${today()})`, [
          { path: 'effectiveFrom', message: `not before ${today()}` },
        ]);
      }
      return insertAssessmentRules(db, {
        effectiveFrom: parsed.effectiveFrom,
        rules: parsed.rules,
        note: parsed.note,
        createdBy: actorName(actor),
        createdAt: now().toISOString(),
      });
    },

    /* Drafts */

    /** The period a scheduled draft at `scheduledAt` covers. */
    scheduledPeriod: (scheduledAt: Date, kind: BulletinPeriodKind): Period => periodBefore(scheduledAt, zone, kind),

    /**
     * Drafts the bulletin of `period` from the audit trail. A scheduled draft is made once per
     * period however often it is asked for; the office may draft any period as often as it likes.
     */
    async draft(input: { period: unknown; origin: 'schedule' | 'office'; actor: Actor }): Promise<BulletinView> {
      const period: Period = parseInput(periodSchema, input.period, 'period');
      const originKey = input.origin === 'schedule' ? `schedule:${period.from}:${period.to}` : null;
      if (originKey) {
        const existing = await findBulletinByOrigin(db, originKey);
        if (existing) return toView(existing);
      }
      const { document, proposed, rulesVersion } = await compose(period);
      const at = now().toISOString();
      const row = await insertBulletin(db, {
        id: newBulletinId(),
        period_from: period.from,
        period_to: period.to,
        status: 'draft',
        year: null,
        sequence: null,
        version: 1,
        corrects_id: null,
        correction_reason: null,
        origin: input.origin,
        origin_key: originKey,
        document: JSON.stringify(document),
        proposed_items: JSON.stringify(proposed),
        decisions: '[]',
        revision: 1,
        rules_version: rulesVersion,
        created_by: actorName(input.actor),
        created_at: at,
        updated_at: at,
        published_by: null,
        published_at: null,
      });
      return toView(row);
    },

    /** Takes an item out of a draft, with the reason (kept with the draft). */
    async removeItem(id: string, input: unknown, actor: Actor): Promise<BulletinView> {
      const { itemId, reason } = parseInput(bulletinRemovalSchema, input, 'removal');
      return changeDraft(id, (row) => {
        checkRemoval((JSON.parse(row.document) as BulletinDocument).items, itemId);
        const decisions: StoredDecision[] = [
          ...(JSON.parse(row.decisions) as StoredDecision[]),
          { action: 'remove', itemId, reason, by: actorName(actor), at: now().toISOString() },
        ];
        return { decisions: JSON.stringify(decisions), document: withItems(row, decisions) };
      });
    },

    /** Adds a case (or one of its tasks) to a draft as criticism, exposure or a notable closure. */
    async addItem(id: string, input: unknown, actor: Actor): Promise<BulletinView> {
      const addition: BulletinAddition = parseInput(bulletinAdditionSchema, input, 'addition');
      const found = await caseForItem(db, addition.caseId);
      if (!found || found.status === 'withdrawn') {
        throw new DomainError('invalid_state', `caseId: 案件 ${addition.caseId} 不存在或已撤销 / no such case, or withdrawn`, [
          { path: 'caseId', message: 'no such case, or withdrawn' },
        ]);
      }
      const task = addition.taskId ? await taskForItem(db, addition.taskId) : undefined;
      if (addition.taskId && (!task || task.case_id !== addition.caseId)) {
        throw new DomainError('invalid_state', `taskId: 不是案件 ${addition.caseId} 的任务 / not a task of case ${addition.caseId}`, [
          { path: 'taskId', message: `not a task of ${addition.caseId}` },
        ]);
      }
      return changeDraft(id, (row) => {
        const items = (JSON.parse(row.document) as BulletinDocument).items;
        const itemId = `${addition.kind}:${addition.taskId ?? addition.caseId}`;
        if (items.some((i) => i.id === itemId)) {
          throw new DomainError('conflict', `通报已列入 ${itemId} / the bulletin already lists ${itemId}`, [{ path: 'caseId', message: 'already listed' }]);
        }
        const item: BulletinItem = {
          id: itemId,
          kind: addition.kind,
          caseId: addition.caseId,
          taskId: addition.taskId,
          departmentCode: task?.department_code ?? found.lead_department,
          departmentName: (task ? task.department_name : found.department_name) ?? task?.department_code ?? found.lead_department,
          title: found.title,
          summary: addition.summary,
          origin: 'added',
        };
        const decisions: StoredDecision[] = [
          ...(JSON.parse(row.decisions) as StoredDecision[]),
          { action: 'add', itemId, reason: addition.reason, by: actorName(actor), at: now().toISOString(), item },
        ];
        return { decisions: JSON.stringify(decisions), document: withItems(row, decisions) };
      });
    },

    /** Drops a draft that will not be published. */
    async discard(id: string, input: unknown, actor: Actor): Promise<BulletinView> {
      const { reason } = parseInput(discardInputSchema, input, 'discard');
      return changeDraft(id, (row) => ({
        status: 'discarded',
        // A discarded correction leaves room for another; a discarded scheduled draft keeps its
        // period's key, so the schedule does not draft that period again.
        ...(row.origin === 'correction' ? { origin_key: null } : {}),
        decisions: JSON.stringify([
          ...(JSON.parse(row.decisions) as StoredDecision[]),
          { action: 'remove', itemId: '*', reason, by: actorName(actor), at: now().toISOString() },
        ]),
      }));
    },

    /**
     * Approves a draft: it is published with its number (the next of the year, or the number of
     * the bulletin it corrects, one version up) and never changes again.
     */
    async approve(id: string, actor: Actor): Promise<BulletinView> {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          const published = await db.transaction().execute(async (trx) => {
            const row = (await findBulletin(trx, id)) ?? notFound(id);
            if (row.status !== 'draft') notDraft(row);
            const at = now();
            let year: number;
            let sequence: number;
            let corrected: BulletinRow | undefined;
            if (row.corrects_id) {
              corrected = await findBulletin(trx, row.corrects_id);
              if (!corrected || corrected.status !== 'published') {
                throw new DomainError('invalid_state', `被更正的通报 ${row.corrects_id} 已有更新版本 / the bulletin it corrects has a newer version`);
              }
              year = corrected.year!;
              sequence = corrected.sequence!;
            } else {
              year = DateTime.fromJSDate(at, { zone }).year;
              sequence = await nextBulletinSequence(trx, year);
            }
            const document: BulletinDocument = {
              ...(JSON.parse(row.document) as BulletinDocument),
              number: bulletinNumber(year, sequence),
              sequence,
              version: row.version,
              publishedAt: at.toISOString(),
              correctionReason: row.correction_reason,
            };
            if (corrected && !(await supersede(trx, corrected.id))) throw new DomainError('conflict', 'concurrent correction');
            const ok = await updateDraft(trx, id, row.revision, {
              status: 'published',
              year,
              sequence,
              document: JSON.stringify(document),
              published_at: at.toISOString(),
              published_by: actorName(actor),
              updated_at: at.toISOString(),
            });
            if (!ok) throw new DomainError('conflict', `通报 ${id} 正被同时修改 / bulletin ${id} changed concurrently`);
            const criticised = document.items.filter((i) => i.kind === 'criticism' && i.taskId).map((i) => i.taskId!);
            await markEscalationsPublished(trx, id, criticised, 3);
            return (await findBulletin(trx, id))!;
          });
          return toView(published);
        } catch (error) {
          // Two approvals of different drafts took the same number at once, or another process
          // wrote between this one's reads and its writes: the loser reads again and tries again.
          if (isUniqueViolation(error, 'bulletins', ['year', 'sequence', 'version'])) continue;
          if (isBusy(error)) continue;
          throw error;
        }
      }
      throw new DomainError('conflict', `通报 ${id} 编号冲突，请重试 / bulletin ${id}: numbering conflict, try again`);
    },

    /**
     * Opens a correction of a published bulletin: a draft of its next version, with the reason
     * (shown with it once published). One open correction per bulletin: asking again returns it.
     */
    async correct(id: string, input: unknown, actor: Actor): Promise<BulletinView> {
      const { reason, refresh } = parseInput(correctionInputSchema, input, 'correction');
      const published = (await findBulletin(db, id)) ?? notFound(id);
      if (published.status !== 'published') {
        throw new DomainError('invalid_state', `只能更正现行版本，${id} 当前为 ${published.status} / only the current published version can be corrected`);
      }
      const originKey = `correction:${id}`;
      const existing = await findBulletinByOrigin(db, originKey);
      if (existing) return toView(existing);
      let document = JSON.parse(published.document) as BulletinDocument;
      let proposed = JSON.parse(published.proposed_items) as BulletinItem[];
      const decisions = JSON.parse(published.decisions) as StoredDecision[];
      if (refresh) {
        const fresh = await compose({ from: published.period_from, to: published.period_to });
        proposed = fresh.proposed;
        document = { ...fresh.document, items: decidedItems(proposed, decisions) };
      }
      document = { ...document, number: null, publishedAt: null, version: published.version + 1, correctionReason: reason };
      const at = now().toISOString();
      const row = await insertBulletin(db, {
        id: newBulletinId(),
        period_from: published.period_from,
        period_to: published.period_to,
        status: 'draft',
        year: null,
        sequence: null,
        version: published.version + 1,
        corrects_id: id,
        correction_reason: reason,
        origin: 'correction',
        origin_key: originKey,
        document: JSON.stringify(document),
        proposed_items: JSON.stringify(proposed),
        decisions: JSON.stringify(decisions),
        revision: 1,
        rules_version: published.rules_version,
        created_by: actorName(actor),
        created_at: at,
        updated_at: at,
        published_by: null,
        published_at: null,
      });
      return toView(row);
    },

    /* Reading */

    /** A bulletin as the office sees it (drafts too). */
    async get(id: string): Promise<BulletinView> {
      return toView((await findBulletin(db, id)) ?? notFound(id));
    },

    /** The office's list: every status asked for, newest first. */
    async list(filter: { statuses: readonly string[]; limit: number; before?: { key: string; id: string } }): Promise<BulletinView[]> {
      return (await listBulletins(db, filter)).map(toView);
    },

    /** Published versions, newest first (what the public lists and the feed carries). */
    async listPublished(limit: number, before?: { key: string; id: string }): Promise<PublishedBulletin[]> {
      return (await listBulletins(db, { statuses: ['published', 'superseded'], limit, ...(before ? { before } : {}) })).map(toPublished);
    },

    /** A published number's versions, oldest first; empty when it has none. */
    async versions(year: number, sequence: number): Promise<PublishedBulletin[]> {
      return (await findBulletinVersions(db, year, sequence)).map(toPublished);
    },

    /** A published bulletin by id, for the public (a draft is not found). */
    async getPublished(id: string): Promise<PublishedBulletin> {
      const row = await findBulletin(db, id);
      if (!row || (row.status !== 'published' && row.status !== 'superseded')) return notFound(id);
      return toPublished(row);
    },
  };
  return service;
}
export type BulletinService = ReturnType<typeof createBulletinService>;
