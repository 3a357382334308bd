import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { formatInstant } from '../domain/time';
import type { CaseService } from '../services/case.service';
import { type ComplaintService, createComplaintService } from '../services/complaint.service';
import { createMailChannel, type MailChannel } from '../services/mail.channel';
import { createNoticeService } from '../services/notice.service';
import { noticeDispatcherId, noticeWaker } from '../services/notice.wake';
import { createPeopleService } from '../services/people.service';
import { verifyWebhook } from '../services/webhook.channel';
import { getCaseQuery } from '../workflows/messages';
import { noticeDispatcherWorkflow } from '../workflows/notices.workflow';
import { dept, office, photo } from './support/fixtures';
import { type Mailbox, startMailbox } from './support/mailbox';
import { type Received, type Receiver, startReceiver } from './support/receiver';
import { startWorkflowStack, type WorkflowStack } from './support/temporal';

const zone = 'Asia/Shanghai';
const secret = 'y'.repeat(40);
const publicUrl = 'https://duban.example.gov.cn';

const recipientOf = (m: ParsedMail) => (m.to && !Array.isArray(m.to) ? m.to.value[0]!.address! : '');

/**
 * The follow-up's notices on the time-skipping server, through a real SMTP server and real HTTP
 * receivers: the complainant learns of the answer (by mail, and through the office's SMS gateway
 * with their phone), the office's clerk of a 不满意; no department learns the complainant's contact
 * data or tracking code.
 */
describe('the follow-up tells the complainant and the office', () => {
  let stack: WorkflowStack;
  let env: TestWorkflowEnvironment;
  let db: Db;
  let service: CaseService;
  let complaints: ComplaintService;
  let mailbox: Mailbox;
  /** The office's own system (an SMS gateway): every notice. */
  let gateway: Receiver;
  /** CG's own system: CG's notices only. */
  let departmentSystem: Receiver;
  let gatewaySecret: string;
  let mail: MailChannel | undefined;

  beforeAll(async () => {
    [mailbox, gateway, departmentSystem] = await Promise.all([startMailbox(), startReceiver(), startReceiver()]);
    stack = await startWorkflowStack({
      deps: (_dir, { env: e, taskQueue }) => ({
        wakeNotices: noticeWaker(e.client, taskQueue),
        notices: {
          mail: (mail = createMailChannel({ host: '127.0.0.1', port: mailbox.port, secure: false, startTls: 'never', from: '督办 <duban@example.gov.cn>' })),
          secretKey: () => secret,
          publicUrl,
          maxAttempts: 3,
        },
      }),
    });
    ({ env, db, service } = stack);
    complaints = createComplaintService({ db, cases: service });
    await env.client.workflow.start(noticeDispatcherWorkflow, {
      workflowId: noticeDispatcherId(stack.taskQueue),
      taskQueue: stack.taskQueue,
      args: [{ idleCheckMs: 60 * 24 * 3_600_000 }],
    });
    const people = createPeopleService({ db });
    await people.addPerson({ department: 'CG' }, { name: '赵联络员', post: '联络员', email: 'zhao@cg.example.gov.cn', roles: ['liaison'] });
    await people.addPerson({ office: true }, { name: '周科员', post: '经办人', email: 'zhou@office.example.gov.cn', roles: ['clerk'] });
    const notices = createNoticeService({ db, secretKey: () => secret });
    gatewaySecret = (await notices.addWebhook({ name: '短信网关', url: gateway.url })).secret;
    await notices.addWebhook({ name: '城管局业务系统', url: departmentSystem.url, department: 'CG' });
  });
  afterAll(async () => {
    await stack?.close();
    mail?.close();
    await mailbox?.close();
    await gateway?.close();
    await departmentSystem?.close();
  });

  /** Waits (in real time) until the dispatcher has planned and sent everything due for a case. */
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

  /**
   * A complaint filed with `contact`, converted into a case of CG's, rectified, accepted and closed:
   * the workflow waits for the answer (polled, not awaited: see test/follow-up.workflow.test.ts).
   */
  async function closedComplaintCase(contact: Record<string, string> | undefined): Promise<{ caseId: string; trackingCode: string }> {
    const { trackingCode } = await complaints.file({ description: '人民路夜间占道经营，影响通行', ...(contact ? { contact } : {}) });
    const converted = await complaints.convert(
      trackingCode,
      { title: '人民路占道经营', category: '市容秩序', severity: 'general', leadDepartment: 'CG' },
      office,
    );
    const caseId = converted.case!.id;
    await service.acknowledgeTask(caseId, dept('CG'), {});
    await service.submitRectification(caseId, dept('CG'), { report: '已清理', evidence: [photo] });
    await service.verifyRectification(caseId, office, { decision: 'accept' });
    const handle = env.client.workflow.getHandle(caseId);
    for (;;) {
      const state = await handle.query(getCaseQuery);
      if (state.status === 'closed' && state.followUp?.status === 'awaiting_answer') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await settled(caseId);
    return { caseId, trackingCode };
  }

  const bodyOf = (r: Received) =>
    JSON.parse(r.body) as { delivery: string; kind: string; caseId: string; department: string | null; text: string; data: Record<string, unknown> };
  const hooksOf = (receiver: Receiver, caseId: string, kind: string) => receiver.received.filter((r) => bodyOf(r).caseId === caseId && bodyOf(r).kind === kind);
  const mailsTo = (address: string) => mailbox.received.filter((m) => recipientOf(m) === address);

  it('mails the answer to the complainant once, in their language, with the tracking link and the window; the gateway gets their phone, signed', async () => {
    const contact = { name: 'Li Si', phone: '13800138000', email: 'lisi@example.org', language: 'en' };
    const { caseId, trackingCode } = await closedComplaintCase(contact);
    expect(mailsTo('lisi@example.org')).toHaveLength(0);

    // ("pavement" holds "en", the complainant's language: no contact data, so the answer is taken.)
    await service.answerCase(caseId, office, { answer: 'The stalls are gone and the pavement is clear again.' });
    await settled(caseId);
    const { followUp } = await service.getCase(caseId);
    const windowEnd = formatInstant(followUp!.followUpDueAt!, zone);
    expect(windowEnd).toMatch(/T23:59:59\.999\+08:00$/);

    // The complainant: one message, in English, with the answer, the tracking link, the window's end and how to rate.
    const letters = mailsTo('lisi@example.org');
    expect(letters).toHaveLength(1);
    const [letter] = letters;
    expect(letter!.subject).toBe('[Answer to your complaint] "人民路占道经营" has been dealt with');
    expect(letter!.text).toContain('The stalls are gone and the pavement is clear again.');
    expect(letter!.text).toContain(`Your tracking code: ${trackingCode}`);
    expect(letter!.text).toContain(`Please rate the answer by ${windowEnd}`);
    expect(letter!.text).toContain(`POST to ${publicUrl}/api/v1/complaints/${trackingCode}/rating`);
    expect(letter!.text).toContain(`Follow your complaint and rate the answer: ${publicUrl}/api/v1/complaints/${trackingCode}`);
    expect(letter!.html).toContain(`href="${publicUrl}/api/v1/complaints/${trackingCode}"`);
    expect(letter!.html).toContain('<html lang="en">');
    // Nobody else is mailed the answer: not the clerk, not the department.
    expect(mailbox.received.filter((m) => m.subject?.includes('Answer to your complaint') || m.subject?.includes('投诉答复'))).toHaveLength(1);

    // The office's gateway: once, signed, with the phone to text and the same words.
    const hooks = hooksOf(gateway, caseId, 'answer');
    expect(hooks).toHaveLength(1);
    const hook = hooks[0]!;
    const signature = hook.headers['duban-signature'] as string;
    expect(verifyWebhook(gatewaySecret, signature, hook.body, Math.floor(Date.now() / 1000))).toBe(true);
    expect(verifyWebhook(gatewaySecret, signature, hook.body.replace('13800138000', '13900139000'), Math.floor(Date.now() / 1000))).toBe(false);
    const body = bodyOf(hook);
    expect(body.data.complainant).toEqual({ phone: '13800138000' });
    expect(body.department).toBeNull();
    expect(body.text).toContain(`${publicUrl}/api/v1/complaints/${trackingCode}`);
    expect(body.text).toContain(windowEnd);
    expect(hook.headers['duban-delivery']).toBe(body.delivery);

    // CG's own system hears nothing of it (it hears of its own task: assigned, submitted, closed).
    const departmentBodies = departmentSystem.received.filter((r) => bodyOf(r).caseId === caseId);
    expect(departmentBodies.map((r) => bodyOf(r).kind).sort()).toEqual(['assignment', 'awaiting_verification', 'closure']);
    for (const secretValue of [trackingCode, contact.phone, contact.email]) {
      expect(departmentBodies.map((r) => r.body).join('\n')).not.toContain(secretValue);
    }

    // The timeline records the deliveries by role, never by address or code.
    const office_ = await service.getCase(caseId);
    const sent = office_.events.filter((e) => e.action === 'notice.sent' && e.payload.kind === 'answer');
    expect(sent.map((e) => [e.payload.channel, e.payload.recipient, e.payload.role]).sort()).toEqual([
      ['email', '投诉人 / complainant', 'complainant'],
      ['webhook', '短信网关', null],
    ]);
    for (const secretValue of [trackingCode, contact.phone, contact.email, contact.name]) expect(JSON.stringify(sent)).not.toContain(secretValue);
  });

  it('tells the office clerk of a 不满意 once, with the reason; the department sees no contact data nor the code', async () => {
    const contact = { name: '李四', phone: '13700137000', email: 'sili@example.org' };
    const { caseId, trackingCode } = await closedComplaintCase(contact);
    await service.answerCase(caseId, office, { answer: '摊点已清理，恢复通行。' });
    await settled(caseId);
    // Without a language, the complainant is written to in Chinese.
    const [answer] = mailsTo('sili@example.org');
    expect(answer!.subject).toBe('【投诉答复】您反映的「人民路占道经营」已办理完毕');
    expect(answer!.text).toContain('摊点已清理，恢复通行。');
    expect(answer!.text).toContain(`您的查询码：${trackingCode}`);
    expect(answer!.text).toContain(`请于 ${formatInstant((await service.getCase(caseId)).followUp!.followUpDueAt!, zone)} 前评价办理结果`);
    expect(answer!.html).toContain('<html lang="zh-CN">');

    const clerkBefore = mailsTo('zhou@office.example.gov.cn').length;
    await complaints.rate(trackingCode, { rating: 'dissatisfied', reason: '晚上又来了' });
    await settled(caseId);
    const toClerk = mailsTo('zhou@office.example.gov.cn').slice(clerkBefore);
    expect(toClerk).toHaveLength(1);
    expect(toClerk[0]!.subject).toBe('【回访不满意】人民路占道经营（' + caseId + '）待决定是否重办');
    expect(toClerk[0]!.text).toContain('投诉人的理由：晚上又来了');
    expect(toClerk[0]!.text).toContain(`查看案件: ${publicUrl}/api/v1/cases/${caseId}`);
    // Nobody in the department is told, nor its system; the office's own system is, once.
    expect(mailsTo('zhao@cg.example.gov.cn').filter((m) => m.subject?.includes('回访不满意'))).toHaveLength(0);
    expect(hooksOf(departmentSystem, caseId, 'rating_dissatisfied')).toHaveLength(0);
    expect(hooksOf(gateway, caseId, 'rating_dissatisfied')).toHaveLength(1);
    // The complainant is told nothing more by the rating.
    expect(mailsTo('sili@example.org')).toHaveLength(1);

    // What a department sees of the case: neither the complainant's e-mail, phone nor tracking code.
    const seen = JSON.stringify(await service.getCase(caseId, dept('CG')));
    expect(seen).toContain('case.answered');
    for (const secretValue of [trackingCode, contact.phone, contact.email]) expect(seen).not.toContain(secretValue);
    // The office sees the deliveries to the complainant on the timeline (by role only).
    const officeView = await service.getCase(caseId);
    expect(officeView.events.some((e) => e.action === 'notice.sent' && e.payload.role === 'complainant')).toBe(true);
  });

  it('texts a complainant who left only a phone through the gateway, and reaches nobody (and alerts nobody) without contact data', async () => {
    const phoneOnly = await closedComplaintCase({ phone: '13600136000' });
    // (Counted once the case is closed: its assignment, submission and closure were mailed.)
    const mailsBefore = mailbox.received.length;
    await service.answerCase(phoneOnly.caseId, office, { answer: '已处理。' });
    await settled(phoneOnly.caseId);
    expect(mailbox.received.length).toBe(mailsBefore);
    const hooks = hooksOf(gateway, phoneOnly.caseId, 'answer');
    expect(hooks).toHaveLength(1);
    expect(bodyOf(hooks[0]!).data.complainant).toEqual({ phone: '13600136000' });
    const kinds = async (caseId: string) =>
      (
        await db
          .selectFrom('deliveries as d')
          .innerJoin('notices as n', 'n.notice_key', 'd.notice_key')
          .select(['n.kind', 'd.channel'])
          .where('n.case_id', '=', caseId)
          .where('n.kind', 'in', ['answer', 'alert'])
          .execute()
      ).map((d) => `${d.kind}:${d.channel}`);
    expect(await kinds(phoneOnly.caseId)).toEqual(['answer:webhook']);

    const anonymous = await closedComplaintCase(undefined);
    const [gatewayBefore, mailsBeforeAnonymous] = [gateway.received.length, mailbox.received.length];
    await service.answerCase(anonymous.caseId, office, { answer: '已处理。' });
    await settled(anonymous.caseId);
    expect(mailbox.received.length).toBe(mailsBeforeAnonymous);
    expect(gateway.received.length).toBe(gatewayBefore);
    expect(await kinds(anonymous.caseId)).toEqual([]);
    const notice = await db.selectFrom('notices').select(['status']).where('case_id', '=', anonymous.caseId).where('kind', '=', 'answer').executeTakeFirstOrThrow();
    expect(notice.status).toBe('undeliverable');
    expect(await db.selectFrom('notices').select('kind').where('case_id', '=', anonymous.caseId).where('kind', '=', 'alert').execute()).toEqual([]);
  });
});
