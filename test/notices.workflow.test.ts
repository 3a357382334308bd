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

  /**
   * Waits (in real time) until the dispatcher has done all that is due for a case at the
   * workflow's present time: no notice left to plan, no delivery left to send.
   */
  const settled = async (caseId: string) => {
    for (let i = 0; i < 400; i++) {
      const now = new Date(await env.currentTimeMs()).toISOString();
      const notices = await db
        .selectFrom('notices')
        .select('notice_key')
        .where('case_id', '=', caseId)
        .where('status', 'in', ['held', 'pending', 'incomplete'])
        .where('not_before', '<=', now)
        .execute();
      const deliveries = await db
        .selectFrom('deliveries as d')
        .innerJoin('notices as n', 'n.notice_key', 'd.notice_key')
        .select('d.delivery_key')
        .where('n.case_id', '=', caseId)
        .where((eb) => eb.or([eb('d.status', '=', 'sending'), eb.and([eb('d.status', '=', 'pending'), eb('d.next_attempt_at', '<=', now)])]))
        .execute();
      if (notices.length === 0 && deliveries.length === 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the dispatcher did not settle case ${caseId}`);
  };
  const sentTo = (caseId: string) =>
    db
      .selectFrom('deliveries as d')
      .innerJoin('notices as n', 'n.notice_key', 'd.notice_key')
      .select(['d.address', 'd.channel', 'd.status', 'd.sent_at', 'n.kind', 'n.payload', 'n.urgent'])
      .where('n.case_id', '=', caseId)
      .execute();

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
    await settled(caseId);
    const mails = letters(mailbox.received);
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
    const hooks = receiver.received;
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
    // The id a receiver sees is the one the office lists.
    const listed = await createNoticeService({ db, secretKey: () => secret }).listDeliveries({ caseId, limit: 500 });
    expect(new Set(hooks.map((h) => h.headers['duban-delivery']))).toEqual(new Set(listed.filter((d) => d.channel === 'webhook').map((d) => d.id)));
    // From 督办 up, a rung is urgent.
    const urgent = (await sentTo(caseId)).filter((d) => d.kind === 'escalation').map((d) => [(JSON.parse(d.payload) as { level: number }).level, d.urgent]);
    expect(new Set(urgent.map(([level, u]) => `${level}:${u}`))).toEqual(new Set(['1:0', '2:1', '3:1', '4:1']));

    // Every delivery is on the timeline, by name, never by address.
    const timeline = (await service.getCase(caseId)).events.filter((e) => e.action === 'notice.sent');
    expect(timeline).toHaveLength(expected + hooks.length);
    expect(JSON.stringify(timeline)).not.toContain('@cg.example.gov.cn');
    expect(timeline.some((e) => e.payload.recipient === '王局长' && e.payload.role === 'head')).toBe(true);
  });

  it('alerts the office when a role has nobody, and sends the notice once someone is added', async () => {
    mailbox.received.length = 0;
    receiver.received.length = 0;
    // JD has nobody in its directory: its assignment has nobody to go to, and the office is told.
    const { caseId } = await service.openCase(caseRequest({ leadDepartment: 'JD', severity: 'general' }), office);
    await settled(caseId);
    expect(letters(mailbox.received)).toEqual([expect.objectContaining({ to: 'zhou@office.example.gov.cn', subject: expect.stringMatching(/^【提示】.*「交办」通知无人可送/) })]);
    expect(mailbox.received[0]!.text).toContain('部门 JD');
    // The office adds JD's liaison; the next look at the notice sends it to her, and alerts nobody again.
    const wake = noticeWaker(env.client, stack.taskQueue);
    await createPeopleService({ db, onDirectoryChange: wake }).addPerson({ department: 'JD' }, { name: '钱联络员', post: '联络员', email: 'qian@jd.example.gov.cn', roles: ['liaison'] });
    await settled(caseId);
    expect(letters(mailbox.received).map((m) => m.to)).toEqual(['zhou@office.example.gov.cn', 'qian@jd.example.gov.cn']);
    expect(mailbox.received[1]!.subject).toMatch(/^【交办】/);
  });

  it('retries a failing receiver, fails it for good after the last try, and lets the office try again, to the address it corrected', async () => {
    mailbox.received.length = 0;
    receiver.received.length = 0;
    const notices = createNoticeService({ db, secretKey: () => secret, wake: noticeWaker(env.client, stack.taskQueue) });
    const clerk = { role: 'office' as const, name: '周科员' };
    // CG's system answers 500 three times: the delivery fails for good.
    receiver.answerNext(500, 500, 500);
    // And CG's liaison's address was mistyped: the server refuses it for good (550, naming it).
    const directory = createPeopleService({ db });
    await directory.changePerson(people['赵联络员']!, { email: 'zhao@cg.exmaple.gov.cn' });
    mailbox.refuseRecipient('zhao@cg.exmaple.gov.cn');
    const cg = await service.openCase(caseRequest({ leadDepartment: 'CG', severity: 'general' }), office);
    // Backoff is on the dispatcher's durable timers: skip through it.
    await settled(cg.caseId);
    await env.sleep('10 minutes');
    await settled(cg.caseId);
    const failed = await notices.listDeliveries({ status: 'failed', caseId: cg.caseId });
    expect(failed.map((d) => [d.channel, d.attempts]).sort()).toEqual([
      ['email', 1],
      ['webhook', 3],
    ]);
    // The office sees the server's whole answer; the timeline, which a department reads, only the code.
    expect(failed.find((d) => d.channel === 'email')!.lastError).toContain('zhao@cg.exmaple.gov.cn');
    const failures = (await service.getCase(cg.caseId)).events.filter((e) => e.action === 'notice.failed');
    expect(failures.map((e) => e.payload.error).sort()).toEqual(['HTTP 500', 'SMTP 550']);
    expect(JSON.stringify(failures)).not.toContain('@');

    // A retry is one more try: the receiver fails again, and that is on the timeline too.
    const hook = failed.find((d) => d.channel === 'webhook')!;
    receiver.answerNext(500);
    await notices.retry(hook.id, clerk);
    await settled(cg.caseId);
    expect(await notices.listDeliveries({ status: 'failed', caseId: cg.caseId })).toContainEqual(expect.objectContaining({ id: hook.id, attempts: 4 }));
    await notices.retry(hook.id, clerk);
    await settled(cg.caseId);
    expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 500, 500, 200]);
    expect(new Set(receiver.received.map((r) => r.headers['duban-delivery']))).toEqual(new Set([hook.id]));

    // The office corrects the liaison's address, then retries: the mail goes to the new one.
    const mail = failed.find((d) => d.channel === 'email')!;
    await directory.changePerson(people['赵联络员']!, { email: 'zhao@cg.example.gov.cn' });
    await notices.retry(mail.id, clerk);
    await settled(cg.caseId);
    expect(letters(mailbox.received).map((m) => m.to)).toEqual(['zhao@cg.example.gov.cn']);
    const timeline = (await service.getCase(cg.caseId)).events.filter((e) => e.action.startsWith('notice.')).map((e) => `${e.action}:${String(e.payload.channel)}`);
    expect(timeline.sort()).toEqual(
      ['notice.failed:email', 'notice.failed:webhook', 'notice.retried:webhook', 'notice.failed:webhook', 'notice.retried:webhook', 'notice.sent:webhook', 'notice.retried:email', 'notice.sent:email'].sort(),
    );
    expect((await service.getCase(cg.caseId)).events.find((e) => e.action === 'notice.retried')!.actor).toMatchObject({ role: 'office', name: '周科员' });
  });

  it('tells a department its task was reassigned or withdrawn, and a person they were named, and when a clock runs again', async () => {
    mailbox.received.length = 0;
    const reassigned = await service.openCase(caseRequest({ leadDepartment: 'CG', severity: 'general', title: '改派案件' }), office);
    await service.reassignTask(reassigned.caseId, office, { fromDepartment: 'CG', toDepartment: 'JD', reason: '属街道职责' });
    const named = await service.openCase(caseRequest({ leadDepartment: 'CG', severity: 'general', title: '责任人案件' }), office);
    // The assignment goes out first (recipients are resolved when a notice is planned: one planned
    // after the naming would reach the person named too, docs/notifications.md).
    await settled(named.caseId);
    await service.assignResponsiblePerson(named.caseId, office, { personId: people['张三']! }, { department: 'CG' });
    await service.suspendTask(named.caseId, office, { reason: '等待规划审批' }, { department: 'CG' });
    await service.resumeTask(named.caseId, office, { comment: '审批已到' }, { department: 'CG' });
    await service.withdrawCase(named.caseId, office, { reason: '重复立案' });
    // Each task writes its withdrawal (and the notice with it) after the case's own: the case's
    // workflow ends once every task has.
    await env.client.workflow.getHandle(named.caseId).result();
    await settled(reassigned.caseId);
    await settled(named.caseId);
    const got = letters(mailbox.received).map((m) => `${m.to} ${m.subject.replace(/[（(]DB-[^）)]*[）)]/, '')}`);
    expect(got.filter((line) => line.includes('改派案件')).sort()).toEqual(
      ['zhao@cg.example.gov.cn 【交办】改派案件', 'zhao@cg.example.gov.cn 【转办】改派案件已改由部门 JD办理', 'qian@jd.example.gov.cn 【交办】改派案件'].sort(),
    );
    expect(got.filter((line) => line.includes('责任人案件') && line.startsWith('zhang@'))).toEqual([
      'zhang@cg.example.gov.cn 【责任人】责任人案件',
      'zhang@cg.example.gov.cn 【恢复计时】责任人案件',
      'zhang@cg.example.gov.cn 【撤销】责任人案件已撤销',
    ]);
    // Each department sees on the timeline who of its own was told what; not the other's people.
    const record = await service.getCase(reassigned.caseId);
    const taskOf = (code: string) => record.tasks.find((t) => t.department === code)!.id;
    for (const code of ['CG', 'JD']) {
      const seen = (await service.getCase(reassigned.caseId, dept(code))).events.filter((e) => e.action.startsWith('notice.'));
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((e) => e.taskId === taskOf(code))).toBe(true);
    }
    // The office sees them all.
    expect(new Set(record.events.filter((e) => e.action.startsWith('notice.')).map((e) => e.taskId))).toEqual(new Set([taskOf('CG'), taskOf('JD')]));
    const resumed = mailbox.received.find((m) => m.subject?.startsWith('【恢复计时】'))!;
    expect(resumed.text).toMatch(/新的整改期限：\d{4}-\d{2}-\d{2}T23:59:59\.999\+08:00/);
    expect(resumed.text).toContain('说明：审批已到');
  });

  it('holds notices back in quiet hours, but not an urgent rung, and sends each department a daily digest', async () => {
    mailbox.received.length = 0;
    // Reminders and rungs at seven in the morning, inside quiet hours that end at eight.
    fs.writeFileSync(policyFile, JSON.stringify({ workdayStartTime: '07:00', notices: { quietHours: { from: '20:00', to: '08:00' }, digestAt: '08:30' } }));
    const evening = DateTime.fromMillis(await env.currentTimeMs(), { zone }).plus({ days: 1 }).set({ hour: 21, minute: 0, second: 0, millisecond: 0 });
    await sleepUntil(evening);
    const { caseId } = await service.openCase(caseRequest({ severity: 'major', title: '夜间占道' }), office);
    // The dispatcher puts the assignment off until eight, and sends nothing before.
    const eight = evening.plus({ hours: 11 }).toUTC().toISO();
    const assignment = () => db.selectFrom('notices').select(['status', 'not_before']).where('case_id', '=', caseId).where('kind', '=', 'assignment').executeTakeFirst();
    for (let i = 0; i < 200 && (await assignment())?.not_before !== eight; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await assignment()).toEqual({ status: 'pending', not_before: eight });
    await sleepUntil(evening.plus({ hours: 10, minutes: 59 }));
    await settled(caseId);
    expect(await sentTo(caseId)).toEqual([]);
    await sleepUntil(evening.plus({ hours: 11, minutes: 1 }));
    await settled(caseId);
    expect(letters(mailbox.received).filter((m) => m.subject.includes('夜间占道')).map((m) => `${m.to} ${m.subject.slice(0, 4)}`)).toEqual(['zhao@cg.example.gov.cn 【交办】']);
    // At half past eight, the digest: each department's liaison gets one mail listing its open tasks.
    await sleepUntil(evening.plus({ hours: 11, minutes: 31 }));
    // This morning's: a dispatcher that was awake when the policy changed may have sent earlier mornings' too.
    const morning = evening.plus({ hours: 11 }).toISODate()!;
    const digests = () => mailbox.received.filter((m) => (m.subject ?? '').startsWith('【每日汇总】') && (m.text ?? '').includes(`截至 ${morning}T08:3`));
    for (let i = 0; i < 200 && digests().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(digests().map((m) => (m.to && !Array.isArray(m.to) ? m.to.value[0]!.address : '')).sort()).toEqual(['qian@jd.example.gov.cn', 'zhao@cg.example.gov.cn']);
    const cgDigest = digests().find((m) => m.to && !Array.isArray(m.to) && m.to.value[0]!.address === 'zhao@cg.example.gov.cn')!;
    expect(cgDigest.text).toContain(caseId);
    expect(digests().find((m) => m !== cgDigest)!.text).not.toContain(caseId);

    // Overdue: reminders and 催办 fire at seven and wait for eight; 督办 and up are urgent and go at seven.
    await sleepUntil(evening.plus({ days: 30 }));
    await settled(caseId);
    const localTime = (at: string | null) => DateTime.fromISO(at!, { zone: 'utc' }).setZone(zone).toFormat('HH:mm');
    const sent = (await sentTo(caseId)).filter((d) => d.channel === 'email' && (d.kind === 'escalation' || d.kind === 'reminder'));
    const byKind = (kind: string, level?: number) =>
      [...new Set(sent.filter((d) => d.kind === kind && (level === undefined || (JSON.parse(d.payload) as { level: number }).level === level)).map((d) => localTime(d.sent_at).slice(0, 4)))];
    expect(byKind('reminder')).toEqual(['08:0']);
    expect(byKind('escalation', 1)).toEqual(['08:0']);
    expect(byKind('escalation', 2)).toEqual(['07:0']);
    expect(byKind('escalation', 4)).toEqual(['07:0']);
    // The dispatcher's history so far (rounds on signals and timers, quiet hours, the digest) is
    // pinned: a change to its workflow must replay it.
    await recordHistory(env.client, noticeDispatcherId(stack.taskQueue), 'notices-dispatcher-rounds');
  });
});
