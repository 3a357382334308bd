import { Option } from 'commander';
import type { DraftBulletinResult } from '../activities/bulletin.activities';
import { periodSchema } from '../domain/bulletin';
import { bulletinItemKinds } from '../domain/bulletin.schema';
import { parseInput } from '../domain/validation';
import type { BulletinView } from '../services/bulletin.service';
import type { BulletinDraftInput, bulletinDraftWorkflow } from '../workflows/bulletin.workflow';
import { type CliEnv, officeActor, print, readJsonInput } from './context';

/** A draft or published bulletin, briefly: what the office needs to decide on it. */
function summary(view: BulletinView) {
  return {
    id: view.id,
    status: view.status,
    number: view.number,
    version: view.version,
    period: view.period,
    revision: view.revision,
    ranking: view.document.ranking.map((r) => `${r.rank}. ${r.departmentName} ${r.score}`),
    items: view.document.items.map((i) => `${i.id} [${i.kind}] ${i.departmentName}: ${i.title} — ${i.summary}`),
    decisions: view.decisions.map((d) => `${d.action} ${d.itemId}: ${d.reason} (${d.by})`),
    publishedAt: view.publishedAt,
  };
}

/** `duban bulletin …`, `duban escalations list`, `duban interview …`, `duban assessment …`. */
export function bulletinCommands({ program, context, actorName }: CliEnv): void {
  const bulletin = program.command('bulletin').description('定期通报: draft, decide, approve (publish) and correct bulletins');

  bulletin
    .command('draft')
    .description('draft a bulletin for a period now (the schedule drafts one each period by itself)')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD, included')
    .option('--json', 'the whole record as JSON')
    .action(async (o: { from: string; to: string; json?: boolean }) => {
      const ctx = context();
      const bulletins = await ctx.bulletins();
      // Checked here first, so that a bad period is refused before a workflow starts.
      const period = parseInput(periodSchema, { from: o.from, to: o.to }, 'period');
      const input: BulletinDraftInput = {
        periodKind: ctx.config.bulletinPeriod,
        period,
        origin: 'office',
        actor: officeActor(actorName()),
      };
      const result: DraftBulletinResult = await (await ctx.client()).workflow.execute<typeof bulletinDraftWorkflow>('bulletinDraftWorkflow', {
        taskQueue: ctx.config.taskQueue,
        workflowId: `duban-bulletin-office-${crypto.randomUUID()}`,
        args: [input],
      });
      const view = await bulletins.get(result.bulletinId);
      print(o.json ? view : summary(view));
    });

  bulletin
    .command('list')
    .description('bulletins, newest first')
    .addOption(new Option('--status <status>', 'which').choices(['draft', 'published', 'superseded', 'discarded']).default('draft'))
    .option('--limit <n>', 'how many', '20')
    .action(async (o: { status: string; limit: string }) => {
      const views = await (await context().bulletins()).list({ statuses: [o.status], limit: Math.min(200, Math.max(1, Number(o.limit) || 20)) });
      print(views.map(summary));
    });

  bulletin
    .command('show <id>')
    .description('a bulletin with its proposals and decisions')
    .option('--json', 'the whole record as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const view = await (await context().bulletins()).get(id);
      print(o.json ? view : summary(view));
    });

  bulletin
    .command('remove <id>')
    .description('take an item out of a draft, with the reason')
    .requiredOption('--item <itemId>', 'the item, e.g. criticism:DB-2026-000123-T1')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, o: { item: string; reason: string }) => {
      print(summary(await (await context().bulletins()).removeItem(id, { itemId: o.item, reason: o.reason }, officeActor(actorName()))));
    });

  bulletin
    .command('add <id>')
    .description('add a case (or task) to a draft as criticism, exposure (曝光) or a notable closure')
    .addOption(new Option('--kind <kind>', 'what kind of item').choices([...bulletinItemKinds]).makeOptionMandatory())
    .requiredOption('--case <caseId>', 'the case')
    .option('--task <taskId>', 'one of its tasks')
    .requiredOption('--summary <text>', 'what the public reads about it')
    .requiredOption('--reason <text>', 'why it is added (kept with the draft)')
    .action(async (id: string, o: { kind: string; case: string; task?: string; summary: string; reason: string }) => {
      const addition = { kind: o.kind, caseId: o.case, taskId: o.task ?? null, summary: o.summary, reason: o.reason };
      print(summary(await (await context().bulletins()).addItem(id, addition, officeActor(actorName()))));
    });

  bulletin
    .command('approve <id>')
    .description('approve a draft: it is published with its number and never changes again')
    .action(async (id: string) => {
      print(summary(await (await context().bulletins()).approve(id, officeActor(actorName()))));
    });

  bulletin
    .command('correct <id>')
    .description('open a correction of a published bulletin (a draft of its next version)')
    .requiredOption('--reason <text>', 'why it is corrected (published with it)')
    .option('--refresh', 'recompute the figures from the audit trail')
    .action(async (id: string, o: { reason: string; refresh?: boolean }) => {
      print(summary(await (await context().bulletins()).correct(id, { reason: o.reason, refresh: o.refresh === true }, officeActor(actorName()))));
    });

  bulletin
    .command('discard <id>')
    .description('drop a draft that will not be published')
    .requiredOption('--reason <text>', 'why')
    .action(async (id: string, o: { reason: string }) => {
      print(summary(await (await context().bulletins()).discard(id, { reason: o.reason }, officeActor(actorName()))));
    });

  const escalations = program.command('escalations').description('rungs reached: 催办, 督办, 通报批评, 约谈');
  escalations
    .command('list')
    .description('rungs reached, oldest first')
    .option('--dept <code>', 'one department')
    .addOption(new Option('--level <n>', 'one rung').choices(['1', '2', '3', '4']))
    .option('--from <date>', 'reached on or after, YYYY-MM-DD')
    .option('--to <date>', 'reached on or before, YYYY-MM-DD')
    .option('--limit <n>', 'how many', '100')
    .option('--cursor <cursor>', 'the next page, as the previous one said')
    .action(async (o: { dept?: string; level?: string; from?: string; to?: string; limit: string; cursor?: string }) => {
      print(
        await (await context().escalations()).list(
          { role: 'office' },
          {
            limit: Math.min(500, Math.max(1, Number(o.limit) || 100)),
            ...(o.dept ? { department: o.dept } : {}),
            ...(o.level ? { level: Number(o.level) } : {}),
            ...(o.from ? { from: o.from } : {}),
            ...(o.to ? { to: o.to } : {}),
            ...(o.cursor ? { cursor: o.cursor } : {}),
          },
        ),
      );
    });

  const interview = program.command('interview').description('约谈: the accountability interviews rung 4 calls for');
  interview
    .command('list')
    .option('--dept <code>', 'one department')
    .addOption(new Option('--status <status>', 'which').choices(['pending', 'completed']))
    .action(async (o: { dept?: string; status?: string }) => {
      print(
        await (await context().escalations()).listInterviews({ role: 'office' }, { limit: 500, ...(o.dept ? { department: o.dept } : {}), ...(o.status ? { status: o.status } : {}) }),
      );
    });
  interview
    .command('record <id>')
    .description('record how an interview went (once)')
    .requiredOption('--interviewees <text>', 'who was interviewed, e.g. 区城管局 王局长')
    .requiredOption('--interviewers <text>', 'who held it')
    .requiredOption('--held-at <instant>', 'when, ISO 8601 with zone, e.g. 2026-12-01T10:00:00+08:00')
    .requiredOption('--outcome <text>', 'what was decided')
    .action(async (id: string, o: { interviewees: string; interviewers: string; heldAt: string; outcome: string }) => {
      print(await (await context().escalations()).completeInterview(id, o, officeActor(actorName())));
    });

  const assessment = program.command('assessment').description('考核扣分: the assessment rules, versioned');
  assessment
    .command('list')
    .description('every version of the rules, oldest first')
    .action(async () => print(await (await context().bulletins()).listRules()));
  assessment
    .command('show')
    .description('the rules in force on a date')
    .option('--on <date>', 'YYYY-MM-DD (default: today)')
    .action(async (o: { on?: string }) => {
      const ctx = context();
      const date = o.on ?? new Intl.DateTimeFormat('en-CA', { timeZone: ctx.config.timeZone }).format(new Date());
      const { rules, version } = await (await ctx.bulletins()).rulesFor(date);
      print({ date, version: version?.version ?? null, effectiveFrom: version?.effectiveFrom ?? null, rules });
    });
  assessment
    .command('add')
    .description('add a version of the rules, in force from a date (today or later)')
    .requiredOption('--from <date>', 'the first day it applies to, YYYY-MM-DD')
    .option('--file <file>', 'the rules as JSON (default: standard input)')
    .option('--note <text>', 'what changed')
    .action(async (o: { from: string; file?: string; note?: string }) => {
      const rules = readJsonInput(o.file);
      print(await (await context().bulletins()).addRules({ effectiveFrom: o.from, rules, note: o.note ?? null }, officeActor(actorName())));
    });
}
