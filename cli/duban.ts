/**
 * `duban`: the office's command line. Talks to the running Temporal server (TEMPORAL_ADDRESS, or
 * the embedded dev server that `npm start` runs) and reads the SQLite read model.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Command, Option } from 'commander';
import { type Config, loadConfig } from '../config/config';
import type { Actor } from '../domain/case.schema';
import { departmentInputSchema } from '../domain/case.schema';
import { DomainError, type ErrorCode } from '../domain/errors';
import { parseInput } from '../domain/validation';
import { calendarOverrideSchema, localDateSchema } from '../domain/calendar';
import { formatInstant, presentInstants } from '../domain/time';
import { caseRecordSchema, caseSchema, caseStateSchema, departmentSchema, taskStateSchema } from '../api/schemas';
import { listCalendarDays, removeCalendarDay, setCalendarDay } from '../db/calendar.repository';
import { listPendingNotifications } from '../db/outbox.repository';
import { createCalendarSource } from '../services/calendar.source';
import { createPolicySource } from '../services/policy.source';
import { createTokenService } from '../services/token.service';
import { z } from 'zod';
import { type Db, migrateToLatest, openDatabase } from '../db/database';
import { insertDepartment, listDepartments } from '../db/department.repository';
import { createCaseService, type CaseService } from '../services/case.service';
import { EvidenceStore, type FileResolver, maxEvidenceBytes } from '../services/evidence.store';
import { saveEvidenceFile } from '../db/evidence.repository';

/** Exit status per error code, so that scripts can tell refusals apart. */
export const exitCodes: Record<ErrorCode, number> = {
  invalid_input: 2,
  not_found: 3,
  forbidden: 4,
  invalid_state: 5,
  conflict: 6,
};

/** What commands need, opened on first use: the read model, and Temporal only when asked. */
class CliContext {
  private database: Db | undefined;
  private connection: Connection | undefined;
  private caseService: CaseService | undefined;

  constructor(readonly config: Readonly<Config>) {}

  async db(): Promise<Db> {
    if (!this.database) {
      this.database = openDatabase(this.config.databaseFile);
      await migrateToLatest(this.database);
    }
    return this.database;
  }

  async service(): Promise<CaseService> {
    if (this.caseService) return this.caseService;
    const db = await this.db();
    const address = this.config.temporalAddress ?? `127.0.0.1:${this.config.devServerPort}`;
    try {
      this.connection = await Connection.connect({ address, connectTimeout: 5000 });
    } catch (error) {
      throw new Error(
        `无法连接 Temporal / cannot reach Temporal at ${address} (is \`npm start\` running?): ${(error as Error).message}`,
      );
    }
    this.caseService = createCaseService({
      client: new Client({ connection: this.connection, namespace: this.config.temporalNamespace }),
      db,
      taskQueue: this.config.taskQueue,
      timeZone: this.config.timeZone,
    });
    return this.caseService;
  }

  /** Local files named as evidence, stored under the data directory. */
  async files(): Promise<FileResolver> {
    return localFiles(EvidenceStore.inDataDir(this.config.dataDir), await this.db());
  }

  async close(): Promise<void> {
    await this.connection?.close();
    await this.database?.destroy();
  }
}

/** Stores a local file named as evidence, and remembers it so that the API can serve it too. */
const localFiles = (store: EvidenceStore, db: Db): FileResolver => async (reference, field) => {
  const file = path.resolve(reference);
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (!stat?.isFile()) {
    throw new DomainError('invalid_input', `${field}: 找不到文件 ${reference} / no such file`, [
      { path: field, message: `no such file: ${reference}` },
    ]);
  }
  if (stat.size > maxEvidenceBytes) {
    throw new DomainError('invalid_input', `${field}: 文件过大 / file over ${maxEvidenceBytes} bytes`, [
      { path: field, message: 'file too large' },
    ]);
  }
  const stored = await store.put(await fs.promises.readFile(file), path.basename(file), field);
  await saveEvidenceFile(db, stored, `cli:${os.userInfo().username}`, new Date().toISOString());
  return stored;
};

/** JSON from a file, or from standard input when the file is "-" or absent and stdin is piped. */
function readJsonInput(file: string | undefined): unknown {
  let text: string;
  if (file && file !== '-') {
    if (!fs.existsSync(file)) throw new DomainError('invalid_input', `找不到文件 / no such file: ${file}`);
    text = fs.readFileSync(file, 'utf8');
  } else if (file === '-' || !process.stdin.isTTY) {
    text = fs.readFileSync(0, 'utf8');
  } else {
    throw new DomainError('invalid_input', '请用 --file 或标准输入给出 JSON / give the JSON with --file or on standard input');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DomainError('invalid_input', `JSON 格式错误 / malformed JSON: ${(error as Error).message}`);
  }
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints `value` with the instants that `schema` declares shown in the office's zone. */
function printAs(schema: z.ZodType, value: unknown, zone: string): void {
  print(presentInstants(schema, value, zone));
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

function officeActor(name: string | undefined): Actor {
  return { role: 'office', name: name ?? `${os.userInfo().username} (督办)` };
}

function departmentActor(department: string, name: string | undefined): Actor {
  return { role: 'department', department, name: name ?? `${os.userInfo().username} (${department})` };
}

/** Evidence from `--evidence` (a URL or a local file) with `--evidence-note` by position. */
function evidenceFromFlags(refs: string[] = [], notes: string[] = []): unknown[] {
  return refs.map((ref, i) => {
    const note = notes[i] === undefined ? {} : { note: notes[i] };
    return /^https?:\/\//i.test(ref) ? { url: ref, ...note } : { file: ref, ...note };
  });
}

export function buildProgram(context: () => CliContext): Command {
  const program = new Command('duban')
    .description('督办 duban: supervision and rectification cases on Temporal')
    .option('--as <name>', 'who is acting, recorded on the timeline (default: your user name)')
    .showHelpAfterError();

  const withService = (): Promise<CaseService> => context().service();
  const actorName = (): string | undefined => program.opts<{ as?: string }>().as;

  const department = program.command('department').description('manage departments (责任单位)');
  department
    .command('add')
    .description('add a department')
    .requiredOption('--code <code>', 'short code, e.g. CG')
    .requiredOption('--name <name>', 'name, e.g. 区城管局')
    .option('--head <name>', 'name of the department head')
    .option('--email <email>', 'contact e-mail')
    .option('--phone <phone>', 'contact phone')
    .action(async (o: { code: string; name: string; head?: string; email?: string; phone?: string }) => {
      const db = await context().db();
      const input = parseInput(
        departmentInputSchema,
        { code: o.code, name: o.name, headName: o.head, email: o.email, phone: o.phone },
        'department',
      );
      if (!(await insertDepartment(db, input, new Date().toISOString()))) {
        throw new DomainError('conflict', `部门代码 ${input.code} 已存在 / department ${input.code} already exists`, [
          { path: 'code', message: 'already exists' },
        ]);
      }
      print(input);
    });
  department
    .command('list')
    .description('list departments')
    .action(async () => {
      printAs(z.array(departmentSchema), await listDepartments(await context().db()), context().config.timeZone);
    });

  const kase = program.command('case').description('open and work cases (案件)');
  kase
    .command('open')
    .description('open a case from JSON (--file, or standard input); prints the case id')
    .option('-f, --file <file>', 'JSON file with the case ("-" for standard input)')
    .option('--idempotency-key <key>', 'retrying with the same key opens the case once')
    .action(async (o: { file?: string; idempotencyKey?: string }) => {
      const service = await withService();
      const request = readJsonInput(o.file);
      const opened = await service.openCase(request, officeActor(actorName()), {
        requestKey: o.idempotencyKey,
        resolveFile: await context().files(),
      });
      process.stdout.write(`${opened.caseId}\n`);
    });

  const target = (cmd: Command) =>
    cmd
      .option('--dept <code>', 'the department whose task it is')
      .option('--task <id>', 'the task id, e.g. DB-2026-000001-T1')
      .option('--idempotency-key <key>', 'retrying with the same key acts once');

  target(kase.command('ack').description('acknowledge (签收) a task as its department').argument('<caseId>'))
    .option('--note <text>', 'a note')
    .action(async (caseId: string, o: { dept?: string; task?: string; note?: string; idempotencyKey?: string }) => {
      const service = await withService();
      const actor = departmentActor(requireDept(o.dept), actorName());
      printAs(
        taskStateSchema,
        await service.acknowledgeTask(caseId, actor, o.note ? { note: o.note } : {}, { taskId: o.task }, {
          requestKey: o.idempotencyKey,
        }),
        context().config.timeZone,
      );
    });

  target(kase.command('progress').description('report progress on a task as its department').argument('<caseId>'))
    .requiredOption('--note <text>', 'what has been done')
    .option('--evidence <url-or-file>', 'a link or a local file (repeatable)', collect)
    .option('--evidence-note <text>', 'a note for the evidence at the same position (repeatable)', collect)
    .action(async (caseId: string, o: { dept?: string; task?: string; note: string; evidence?: string[]; evidenceNote?: string[]; idempotencyKey?: string }) => {
      const service = await withService();
      const actor = departmentActor(requireDept(o.dept), actorName());
      const input = { note: o.note, evidence: evidenceFromFlags(o.evidence, o.evidenceNote) };
      printAs(taskStateSchema, await service.reportProgress(caseId, actor, input, { taskId: o.task }, { requestKey: o.idempotencyKey, resolveFile: await context().files() }), context().config.timeZone);
    });

  target(
    kase
      .command('submit')
      .description('submit the rectification (提交整改) with evidence, as the department')
      .argument('<caseId>'),
  )
    .option('--report <text>', 'what was rectified')
    .option('--evidence <url-or-file>', 'a link or a local photo/document (repeatable)', collect)
    .option('--evidence-note <text>', 'a note for the evidence at the same position (repeatable)', collect)
    .option('-f, --file <file>', 'JSON {report, evidence: [{url|file, note}]} instead of the flags ("-" for stdin)')
    .action(
      async (
        caseId: string,
        o: { dept?: string; task?: string; report?: string; evidence?: string[]; evidenceNote?: string[]; file?: string; idempotencyKey?: string },
      ) => {
        const service = await withService();
        const actor = departmentActor(requireDept(o.dept), actorName());
        const input =
          o.file !== undefined
            ? readJsonInput(o.file)
            : { report: o.report ?? '', evidence: evidenceFromFlags(o.evidence, o.evidenceNote) };
        printAs(
          taskStateSchema,
          await service.submitRectification(caseId, actor, input, { taskId: o.task }, {
            requestKey: o.idempotencyKey,
            resolveFile: await context().files(),
          }),
          context().config.timeZone,
        );
      },
    );

  target(kase.command('verify').description('verify (核查) a submitted rectification as the office').argument('<caseId>'))
    .addOption(new Option('--accept', 'accept: the task is done').conflicts('reject'))
    .addOption(new Option('--reject', 'send it back for rework (返工)').conflicts('accept'))
    .option('--comment <text>', 'the verdict; required when rejecting')
    .action(
      async (caseId: string, o: { dept?: string; task?: string; accept?: boolean; reject?: boolean; comment?: string; idempotencyKey?: string }) => {
        const service = await withService();
        if (!o.accept && !o.reject) {
          throw new DomainError('invalid_input', '请指明 --accept 或 --reject / give --accept or --reject', [
            { path: 'decision', message: 'give --accept or --reject' },
          ]);
        }
        const input = { decision: o.accept ? 'accept' : 'reject', ...(o.comment ? { comment: o.comment } : {}) };
        printAs(
          taskStateSchema,
          await service.verifyRectification(caseId, officeActor(actorName()), input, { taskId: o.task, department: o.dept }, {
            requestKey: o.idempotencyKey,
          }),
          context().config.timeZone,
        );
      },
    );

  kase
    .command('withdraw')
    .description('withdraw (撤销) a case as the office')
    .argument('<caseId>')
    .requiredOption('--reason <text>', 'why')
    .option('--idempotency-key <key>', 'retrying with the same key acts once')
    .action(async (caseId: string, o: { reason: string; idempotencyKey?: string }) => {
      const service = await withService();
      printAs(caseStateSchema, await service.withdrawCase(caseId, officeActor(actorName()), { reason: o.reason }, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  kase
    .command('show')
    .description('a case with its tasks and event timeline, as JSON')
    .argument('<caseId>')
    .action(async (caseId: string) => {
      const service = await withService();
      printAs(caseRecordSchema, await service.getCase(caseId), context().config.timeZone);
    });

  kase
    .command('list')
    .description('list cases, newest first')
    .addOption(new Option('--status <status>', 'only cases in this status').choices(['open', 'closed', 'withdrawn']))
    .option('--dept <code>', 'only cases with a task for this department')
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
    .action(async (o: { status?: string; dept?: string; limit: number }) => {
      const service = await withService();
      printAs(z.array(caseSchema), (await service.listCases({ status: o.status, department: o.dept, limit: o.limit })).items, context().config.timeZone);
    });

  target(kase.command('extend').description('request an extension (申请延期) as the department').argument('<caseId>'))
    .requiredOption('--days <n>', 'working days asked for', (v) => Number(v))
    .requiredOption('--reason <text>', 'why')
    .action(async (caseId: string, o: { dept?: string; task?: string; days: number; reason: string; idempotencyKey?: string }) => {
      const service = await withService();
      const actor = departmentActor(requireDept(o.dept), actorName());
      printAs(taskStateSchema, await service.requestExtension(caseId, actor, { workingDays: o.days, reason: o.reason }, { taskId: o.task }, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  target(kase.command('extension').description('approve or deny a pending extension (审批延期) as the office').argument('<caseId>'))
    .addOption(new Option('--approve', 'approve it').conflicts('deny'))
    .addOption(new Option('--deny', 'deny it').conflicts('approve'))
    .option('--days <n>', 'grant fewer working days than asked', (v) => Number(v))
    .option('--comment <text>', 'the decision’s reason')
    .action(
      async (caseId: string, o: { dept?: string; task?: string; approve?: boolean; deny?: boolean; days?: number; comment?: string; idempotencyKey?: string }) => {
        const service = await withService();
        const input = {
          decision: o.approve ? 'approve' : o.deny ? 'deny' : undefined,
          ...(o.days !== undefined ? { workingDays: o.days } : {}),
          ...(o.comment ? { comment: o.comment } : {}),
        };
        printAs(taskStateSchema, await service.decideExtension(caseId, officeActor(actorName()), input, { taskId: o.task, department: o.dept }, { requestKey: o.idempotencyKey }), context().config.timeZone);
      },
    );

  target(kase.command('transfer').description('ask the office to transfer a task (申请转办) as its department').argument('<caseId>'))
    .requiredOption('--reason <text>', 'why the task is not this department’s')
    .option('--suggest <code>', 'the department it belongs to')
    .action(async (caseId: string, o: { dept?: string; task?: string; reason: string; suggest?: string; idempotencyKey?: string }) => {
      const service = await withService();
      const actor = departmentActor(requireDept(o.dept), actorName());
      const input = { reason: o.reason, ...(o.suggest ? { suggestedDepartment: o.suggest } : {}) };
      printAs(taskStateSchema, await service.requestTransfer(caseId, actor, input, { taskId: o.task }, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  target(kase.command('reject-transfer').description('keep a task with its department (驳回转办) as the office').argument('<caseId>'))
    .requiredOption('--comment <text>', 'why')
    .action(async (caseId: string, o: { dept?: string; task?: string; comment: string; idempotencyKey?: string }) => {
      const service = await withService();
      printAs(taskStateSchema, await service.rejectTransfer(caseId, officeActor(actorName()), { comment: o.comment }, { taskId: o.task, department: o.dept }, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  kase
    .command('reassign')
    .description('move a live task to another department (改派/转办) as the office')
    .argument('<caseId>')
    .option('--task <id>', 'the task to move')
    .option('--from <code>', 'the department whose task to move')
    .requiredOption('--to <code>', 'the department that takes it over')
    .requiredOption('--reason <text>', 'why')
    .option('--idempotency-key <key>', 'retrying with the same key acts once')
    .action(async (caseId: string, o: { task?: string; from?: string; to: string; reason: string; idempotencyKey?: string }) => {
      const service = await withService();
      const input = { ...(o.task ? { taskId: o.task } : { fromDepartment: o.from }), toDepartment: o.to, reason: o.reason };
      printAs(caseStateSchema, await service.reassignTask(caseId, officeActor(actorName()), input, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  target(kase.command('suspend').description('stop a task’s clock (挂起) as the office').argument('<caseId>'))
    .requiredOption('--reason <text>', 'why, e.g. waiting on an outside approval')
    .action(async (caseId: string, o: { dept?: string; task?: string; reason: string; idempotencyKey?: string }) => {
      const service = await withService();
      printAs(taskStateSchema, await service.suspendTask(caseId, officeActor(actorName()), { reason: o.reason }, { taskId: o.task, department: o.dept }, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  target(kase.command('resume').description('restart a suspended task’s clock (恢复) as the office').argument('<caseId>'))
    .option('--comment <text>', 'a note')
    .action(async (caseId: string, o: { dept?: string; task?: string; comment?: string; idempotencyKey?: string }) => {
      const service = await withService();
      printAs(
        taskStateSchema,
        await service.resumeTask(caseId, officeActor(actorName()), o.comment ? { comment: o.comment } : {}, { taskId: o.task, department: o.dept }, {
          requestKey: o.idempotencyKey,
        }),
        context().config.timeZone,
      );
    });

  const token = program.command('token').description('API bearer tokens (stored hashed; shown once)');
  token
    .command('create')
    .description('create a token and print it once')
    .addOption(new Option('--role <role>', 'office or department').choices(['office', 'department']).makeOptionMandatory())
    .option('--dept <code>', 'the department (for a department token)')
    .requiredOption('--name <name>', 'who holds it, e.g. 城管局 张三')
    .action(async (o: { role: string; dept?: string; name: string }) => {
      const tokens = createTokenService({ db: await context().db() });
      const created = await tokens.create({ role: o.role, name: o.name, ...(o.dept ? { department: o.dept } : {}) });
      print(created);
      process.stderr.write('请妥善保存：令牌只显示这一次 / keep the token safe: it is shown only this once\n');
    });
  token
    .command('revoke')
    .description('revoke a token by its id (tok_…)')
    .argument('<id>')
    .action(async (id: string) => {
      await createTokenService({ db: await context().db() }).revoke(id);
      print({ revoked: id });
    });
  token
    .command('list')
    .description('tokens, without their secrets')
    .action(async () => print(await createTokenService({ db: await context().db() }).list()));

  const calendar = program.command('calendar').description('the working-day calendar (工作日历)');
  calendar
    .command('set')
    .description('make a date a local closure (--holiday) or an extra working day (--workday)')
    .argument('<date>', 'YYYY-MM-DD')
    .addOption(new Option('--holiday', 'a day off (local closure)').conflicts('workday'))
    .addOption(new Option('--workday', 'a working day').conflicts('holiday'))
    .option('--note <text>', 'why')
    .action(async (date: string, o: { holiday?: boolean; workday?: boolean; note?: string }) => {
      const ctx = context();
      const day = parseInput(
        calendarOverrideSchema,
        { date, kind: o.holiday ? 'holiday' : o.workday ? 'workday' : undefined, ...(o.note ? { note: o.note } : {}) },
        'calendar day',
      );
      await setCalendarDay(await ctx.db(), day, new Date().toISOString());
      print(day);
    });
  calendar
    .command('unset')
    .description('remove a local calendar day')
    .argument('<date>', 'YYYY-MM-DD')
    .action(async (date: string) => {
      if (!(await removeCalendarDay(await context().db(), parseInput(localDateSchema, date, 'date')))) {
        throw new DomainError('not_found', `${date} 没有本地设置 / no local setting for ${date}`);
      }
      print({ removed: date });
    });
  calendar
    .command('list')
    .description('the local calendar days set at run time')
    .action(async () => print(await listCalendarDays(await context().db())));
  calendar
    .command('check')
    .description('whether a date is a working day, and the deadline N working days after it')
    .argument('<date>', 'YYYY-MM-DD')
    .option('--days <n>', 'working days to add', (v) => Number(v))
    .action(async (date: string, o: { days?: number }) => {
      const ctx = context();
      const day = parseInput(localDateSchema, date, 'date');
      const cal = await createCalendarSource({
        db: await ctx.db(),
        timeZone: ctx.config.timeZone,
        overridesFile: ctx.config.calendarFile,
      })();
      const due = o.days === undefined ? {} : { dueAfter: formatInstant(cal.endOfDay(cal.nthWorkingDayAfter(day, parseInput(z.number().int().min(0).max(365), o.days, 'days'))), cal.zone) };
      print({ date: day, workingDay: cal.isWorkingDay(day), officialDataCovers: cal.covers(day), ...due });
    });

  program
    .command('policy')
    .description('the deadline and escalation policy in force (DUBAN_POLICY_FILE, or the defaults)')
    .action(() => {
      const { config } = context();
      print({ file: fs.existsSync(config.policyFile) ? config.policyFile : null, policy: createPolicySource(config.policyFile)() });
    });

  program
    .command('outbox')
    .description('notifications waiting for delivery')
    .option('--case <id>', 'only this case’s')
    .action(async (o: { case?: string }) => {
      print(await listPendingNotifications(await context().db(), o.case ? { caseId: o.case } : {}));
    });

  return program;
}

function requireDept(dept: string | undefined): string {
  if (!dept) {
    throw new DomainError('invalid_input', '请用 --dept 指明办理部门 / give the acting department with --dept', [
      { path: 'dept', message: 'required' },
    ]);
  }
  return dept;
}

/** Runs the CLI on `argv`; resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  let ctx: CliContext | undefined;
  try {
    await buildProgram(() => (ctx ??= new CliContext(loadConfig()))).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof DomainError) {
      process.stderr.write(`错误 / error [${error.code}]: ${error.message}\n`);
      for (const d of error.details) process.stderr.write(`  - ${d.path || '(input)'}: ${d.message}\n`);
      return exitCodes[error.code];
    }
    process.stderr.write(`错误 / error: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

if (require.main === module) {
  void run(process.argv).then((code) => {
    process.exitCode = code;
  });
}
