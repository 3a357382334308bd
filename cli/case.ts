import { type Command, Option } from 'commander';
import { DomainError } from '../domain/errors';
import type { CaseService } from '../services/case.service';
import { z } from 'zod';
import { caseRecordSchema, caseSchema, caseStateSchema, taskStateSchema } from '../api/schemas';
import { presentInstants } from '../domain/time';
import { type CliEnv, collect, departmentActor, officeActor, print, printAs, readJsonInput, requireDept } from './context';

/** Evidence from `--evidence` (a URL or a local file) with `--evidence-note` by position. */
function evidenceFromFlags(refs: string[] = [], notes: string[] = []): unknown[] {
  return refs.map((ref, i) => {
    const note = notes[i] === undefined ? {} : { note: notes[i] };
    return /^https?:\/\//i.test(ref) ? { url: ref, ...note } : { file: ref, ...note };
  });
}

/** The options that pick a case's task: the department holding it or its id, and a retry key. */
const target = (cmd: Command) =>
  cmd
    .option('--dept <code>', 'the department whose task it is')
    .option('--task <id>', 'the task id, e.g. DB-2026-000001-T1')
    .option('--idempotency-key <key>', 'retrying with the same key acts once');

/** `duban case …`: open and work cases (案件) through the running workflows. */
export function caseCommands({ program, context, actorName }: CliEnv): void {
  const withService = (): Promise<CaseService> => context().service();

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

  target(kase.command('ack').description('acknowledge (签收) a task as its department').argument('<caseId>'))
    .option('--note <text>', 'a note')
    .option('--person <id>', 'the responsible person (责任人): a person of the department, e.g. p_3f9a0c1b2d4e')
    .action(async (caseId: string, o: { dept?: string; task?: string; note?: string; person?: string; idempotencyKey?: string }) => {
      const service = await withService();
      const actor = departmentActor(requireDept(o.dept), actorName());
      const input = { ...(o.note ? { note: o.note } : {}), ...(o.person ? { responsiblePersonId: o.person } : {}) };
      printAs(
        taskStateSchema,
        await service.acknowledgeTask(caseId, actor, input, { taskId: o.task }, { requestKey: o.idempotencyKey }),
        context().config.timeZone,
      );
    });

  target(kase.command('assign-person').description("name a task's responsible person (指定责任人) as the office").argument('<caseId>'))
    .requiredOption('--person <id>', "a person of the task's department, e.g. p_3f9a0c1b2d4e")
    .action(async (caseId: string, o: { dept?: string; task?: string; person: string; idempotencyKey?: string }) => {
      const service = await withService();
      printAs(
        taskStateSchema,
        await service.assignResponsiblePerson(caseId, officeActor(actorName()), { personId: o.person }, { taskId: o.task, department: o.dept }, {
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
    .command('answer')
    .description('answer (答复) the complainant of a closed complaint case as the office, showing after-photos of its accepted rectifications')
    .argument('<caseId>')
    .requiredOption('--answer <text>', 'the answer, shown on the public tracking page (no contact data)')
    .option('--photo <sha256...>', 'an after-photo of an accepted submission to show (sha256 or sha256:<hex>), repeatable')
    .option('--idempotency-key <key>', 'retrying with the same key acts once')
    .action(async (caseId: string, o: { answer: string; photo?: string[]; idempotencyKey?: string }) => {
      const service = await withService();
      const input = { answer: o.answer, evidence: (o.photo ?? []).map((p) => (p.startsWith('sha256:') ? p : `sha256:${p}`)) };
      printAs(caseStateSchema, await service.answerCase(caseId, officeActor(actorName()), input, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  kase
    .command('follow-up')
    .description('decide a 不满意 rating as the office: uphold it (重办, a new task) or dismiss it')
    .argument('<caseId>')
    .addOption(new Option('--uphold', 'reopen the case with a new task').conflicts('dismiss'))
    .addOption(new Option('--dismiss', 'keep the case closed').conflicts('uphold'))
    .requiredOption('--reason <text>', 'why')
    .option('--department <code>', 'the department of the new task (default: the lead)')
    .option('--idempotency-key <key>', 'retrying with the same key acts once')
    .action(async (caseId: string, o: { uphold?: boolean; dismiss?: boolean; reason: string; department?: string; idempotencyKey?: string }) => {
      const service = await withService();
      const input = {
        decision: o.uphold ? 'uphold' : o.dismiss ? 'dismiss' : undefined,
        reason: o.reason,
        ...(o.department ? { department: o.department } : {}),
      };
      printAs(caseStateSchema, await service.decideFollowUp(caseId, officeActor(actorName()), input, { requestKey: o.idempotencyKey }), context().config.timeZone);
    });

  kase
    .command('show')
    .description('a case with its tasks and event timeline, as JSON')
    .argument('<caseId>')
    .action(async (caseId: string) => {
      const service = await withService();
      const shown = await service.getCase(caseId);
      // Deadlines counted across a year without official holiday data are flagged with the case.
      const warnings = await (await context().calendarService()).deadlineWarnings(shown.tasks);
      print({ ...presentInstants(caseRecordSchema, shown, context().config.timeZone), warnings });
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
}
