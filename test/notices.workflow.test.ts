import fs from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import type { CaseService } from '../services/case.service';
import { createMailChannel, type MailChannel } from '../services/mail.channel';
import { createNoticeService } from '../services/notice.service';
import { noticeDispatcherId, noticeWaker } from '../services/notice.wake';
import { createPeopleService } from '../services/people.service';
import { noticeDispatcherWorkflow } from '../workflows/notices.workflow';
import { caseRequest, dept, office } from './support/fixtures';
import { recordHistory } from './support/histories';
import { type Mailbox, startMailbox } from './support/mailbox';
import { type Receiver, startReceiver } from './support/receiver';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

const zone = 'Asia/Shanghai';
const secret = 'x'.repeat(40);

/** Who received what: the recipient's address and the subject, in arrival order. */
const letters = (mails: ParsedMail[]) =>
  mails.map((m) => ({ to: m.to && !Array.isArray(m.to) ? m.to.value[0]!.address! : '', subject: m.subject ?? '', id: m.messageId }));

/**
 * Notices on the time-skipping server: a case left to run overdue tells the right people (from the
 * directory) and the department's webhook, in order, each exactly once, through a real SMTP
 * server and a real HTTP receiver.
 */
describe('notices reach people, in order, exactly once', () => {
  let stack: WorkflowStack;
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let mailbox: Mailbox;
  let receiver: Receiver;
  let policyFile: string;
  let mail: MailChannel | undefined;
  const people: Record<string, string> = {};

  beforeAll(async () => {
    [mailbox, receiver] = await Promise.all([startMailbox(), startReceiver()]);
    stack = await startWorkflowStack({
      departments: ['CG', 'JD', 'SJ'],
      deps: (dir, { env: e, taskQueue }) => ({
        policyFile: (policyFile = path.join(dir, 'policy.json')),
        wakeNotices: noticeWaker(e.client, taskQueue),
        notices: {
          mail: (mail = createMailChannel({ host: '127.0.0.1', port: mailbox.port, secure: false, startTls: 'never', from: '督办 <duban@example.gov.cn>' })),
          secretKey: () => secret,
          publicUrl: 'https://duban.example.gov.cn',
          maxAttempts: 3,
        },
      }),
    });
    ({ env, db, service } = stack);
    // The dispatcher, started here with a long idle look-again so that skipped weeks stay cheap.
    await env.client.workflow.start(noticeDispatcherWorkflow, {
      workflowId: noticeDispatcherId(stack.taskQueue),
      taskQueue: stack.taskQueue,
      args: [{ idleCheckMs: 60 * 24 * 3_600_000 }],
    });
    const directory = createPeopleService({ db });
    const add = async (unit: { department: string } | { office: true }, name: string, email: string, roles: string[], language = 'zh-CN') =>
      (people[name] = (await directory.addPerson(unit, { name, post: '岗位', email, roles, language })).id);
    await add({ department: 'CG' }, '王局长', 'wang@cg.example.gov.cn', ['head']);
    await add({ department: 'CG' }, 'Li Deputy', 'li@cg.example.gov.cn', ['deputy'], 'en');
    await add({ department: 'CG' }, '赵联络员', 'zhao@cg.example.gov.cn', ['liaison']);
    await add({ department: 'CG' }, '张三', 'zhang@cg.example.gov.cn', []);
    await add({ office: true }, '督查办主任', 'lead@office.example.gov.cn', ['lead']);
    await add({ office: true }, '周科员', 'zhou@office.example.gov.cn', ['clerk']);
    await createNoticeService({ db, secretKey: () => secret }).addWebhook({ name: '城管局业务系统', url: receiver.url, department: 'CG' });
  });
  afterAll(async () => {
    await stack?.close();
    mail?.close();
    await mailbox?.close();
    await receiver?.close();
  });

  const sleepUntil = async (when: DateTime) => {
    const now = await env.currentTimeMs();
    if (when.toMillis() > now) await env.sleep(when.toMillis() - now);
  };

  it('tells the liaison and the responsible person of an assignment, then each reminder and rung to whom it is for', async () => {
    const { caseId } = await service.openCase(caseRequest({ severity: 'serious', responsiblePersons: { CG: people['张三']! } } as never), office);
    await service.acknowledgeTask(caseId, dept('CG'), {});
    // Past every rung of the ladder (10 working days overdue on a 7-day window).
    await sleepUntil(DateTime.fromMillis(await env.currentTimeMs(), { zone }).plus({ days: 40 }));

    const events = await db.selectFrom('events').select(['action', 'payload']).where('case_id', '=', caseId).orderBy('position').execute();
    const reminders = events.filter((e) => e.action === 'task.reminded').length;
    const rungs = events.filter((e) => e.action === 'task.escalated').map((e) => (JSON.parse(e.payload) as { level: number }).level);
    expect(rungs).toEqual([1, 2, 3, 4]);
    expect(reminders).toBeGreaterThan(0);

    // By the directory: assignment → liaison + responsible; reminder → responsible; 催办 → responsible
    // + head; 督办 → + office lead; 通报批评 → head + deputy; 约谈 → + office lead.
    const expected = 2 + reminders + 2 + 3 + 2 + 3;
    const mails = letters(await mailbox.waitFor(expected));
    await new Promise((r) => setTimeout(r, 500));
    expect(mails).toHaveLength(expected);
    expect(new Set(mails.map((m) => m.id)).size).toBe(expected);
    const to = (address: string) => mails.filter((m) => m.to === address).map((m) => m.subject.replace(/[（(]DB-.*$/, '').trim());
    expect(to('zhao@cg.example.gov.cn')).toEqual(['【交办】人民路占道经营']);
    expect(to('zhang@cg.example.gov.cn')).toEqual([
      '【交办】人民路占道经营',
      ...Array<string>(reminders).fill('【提醒】人民路占道经营'),
      '【催办】人民路占道经营',
      '【督办】人民路占道经营',
    ]);
    expect(to('wang@cg.example.gov.cn')).toEqual(['【催办】人民路占道经营', '【督办】人民路占道经营', '【通报批评】人民路占道经营', '【约谈】人民路占道经营']);
    // The deputy reads English.
    expect(to('li@cg.example.gov.cn')).toEqual(['[public criticism (listed in the next bulletin)] 人民路占道经营', '[accountability interview] 人民路占道经营']);
    expect(to('lead@office.example.gov.cn')).toEqual(['【督办】人民路占道经营', '【约谈】人民路占道经营']);
    expect(to('zhou@office.example.gov.cn')).toEqual([]);

    // The department's system gets every notice once, signed, in the order things happened.
    const hooks = await receiver.waitFor(1 + reminders + 4);
    await new Promise((r) => setTimeout(r, 300));
    expect(hooks).toHaveLength(1 + reminders + 4);
    const bodies = hooks.map((h) => JSON.parse(h.body) as { kind: string; caseId: string; data: { level?: number } });
    expect(bodies.map((b) => (b.kind === 'escalation' ? `rung ${b.data.level}` : b.kind))).toEqual([
      'assignment',
      ...Array<string>(reminders).fill('reminder'),
      'rung 1',
      'rung 2',
      'rung 3',
      'rung 4',
    ]);
    expect(new Set(hooks.map((h) => h.headers['duban-delivery'])).size).toBe(hooks.length);

    // Every delivery is on the timeline, by name, never by address.
    const timeline = (await service.getCase(caseId)).events.filter((e) => e.action === 'notice.sent');
    expect(timeline).toHaveLength(expected + hooks.length);
    expect(JSON.stringify(timeline)).not.toContain('@cg.example.gov.cn');
    expect(timeline.some((e) => e.payload.recipient === '王局长' && e.payload.role === 'head')).toBe(true);
  });

  it('alerts the office when a role has nobody, retries a failing receiver and fails it for good after the last try', async () => {
    mailbox.received.length = 0;
    receiver.received.length = 0;
    // JD has nobody in its directory: its assignment has nobody to go to.
    const { caseId } = await service.openCase(caseRequest({ leadDepartment: 'JD', severity: 'general' }), office);
    const alerts = await mailbox.waitFor(1);
    expect(letters(alerts)).toEqual([expect.objectContaining({ to: 'zhou@office.example.gov.cn', subject: expect.stringMatching(/^【提示】/) })]);
    expect(alerts[0]!.text).toContain('部门 JD');

    // CG's system answers 500 three times: the delivery fails for good, and the office retries it.
    receiver.answerNext(500, 500, 500);
    const cg = await service.openCase(caseRequest({ leadDepartment: 'CG', severity: 'general' }), office);
    await receiver.waitFor(1);
    // Backoff is on the dispatcher's durable timers: skip through it.
    await env.sleep('10 minutes');
    await receiver.waitFor(3);
    const notices = createNoticeService({ db, secretKey: () => secret, wake: noticeWaker(env.client, stack.taskQueue) });
    let failed = await notices.listDeliveries({ status: 'failed', caseId: cg.caseId });
    for (let i = 0; i < 50 && failed.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      failed = await notices.listDeliveries({ status: 'failed', caseId: cg.caseId });
    }
    expect(failed).toEqual([expect.objectContaining({ channel: 'webhook', attempts: 3, lastError: 'webhook: HTTP 500' })]);
    expect((await service.getCase(cg.caseId)).events.filter((e) => e.action === 'notice.failed')).toHaveLength(1);
    await notices.retry(failed[0]!.id);
    await receiver.waitFor(4);
    expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 500, 200]);
    expect(new Set(receiver.received.map((r) => r.headers['duban-delivery'])).size).toBe(1);
    expect(caseId).toMatch(/^DB-/);
  });

  it('holds notices back in quiet hours, but not an urgent rung, and sends each department a daily digest', async () => {
    mailbox.received.length = 0;
    fs.writeFileSync(policyFile, JSON.stringify({ notices: { quietHours: { from: '20:00', to: '08:00' }, digestAt: '08:30' } }));
    const evening = DateTime.fromMillis(await env.currentTimeMs(), { zone }).plus({ days: 1 }).set({ hour: 21, minute: 0 });
    await sleepUntil(evening);
    const { caseId } = await service.openCase(caseRequest({ severity: 'major', title: '夜间占道' }), office);
    // Nothing before eight in the morning.
    await sleepUntil(evening.plus({ hours: 10, minutes: 59 }));
    await new Promise((r) => setTimeout(r, 500));
    expect(letters(mailbox.received).filter((m) => m.subject.includes('夜间占道'))).toEqual([]);
    await sleepUntil(evening.plus({ hours: 11, minutes: 1 }));
    const morning = await mailbox.waitFor(1);
    expect(letters(morning).filter((m) => m.subject.includes('夜间占道')).map((m) => m.to).sort()).toEqual(['zhao@cg.example.gov.cn']);
    // At half past eight, the digest: CG's liaison gets one mail listing its open tasks.
    await sleepUntil(evening.plus({ hours: 11, minutes: 31 }));
    const withDigest = await mailbox.waitFor(2);
    const digests = withDigest.filter((m) => (m.subject ?? '').startsWith('【每日汇总】'));
    expect(digests.map((m) => (m.to && !Array.isArray(m.to) ? m.to.value[0]!.address : ''))).toEqual(['zhao@cg.example.gov.cn']);
    expect(digests[0]!.text).toContain(caseId);
    expect(caseId).toMatch(/^DB-/);
    // The dispatcher's history so far (rounds on signals and timers, quiet hours, the digest) is
    // pinned: a change to its workflow must replay it.
    await recordHistory(env.client, noticeDispatcherId(stack.taskQueue), 'notices-dispatcher-rounds');
  });
});
