import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noticeKinds } from '../domain/notice';
import { ChannelError, createMailChannel } from '../services/mail.channel';
import { createNoticeRenderer, noticeLanguages } from '../services/notice.renderer';
import { createWebhookChannel, signWebhook, verifyWebhook } from '../services/webhook.channel';
import { type Mailbox, startMailbox } from './support/mailbox';
import { freePort } from './support/processes';
import { type Receiver, startReceiver } from './support/receiver';

const sample = {
  caseId: 'DB-2026-000123',
  caseTitle: '人民路占道经营 <script>',
  taskId: 'DB-2026-000123-T1',
  departmentName: '区城管局',
  recipientName: '张三',
  role: 'lead',
  ackDueAt: '2026-12-01T23:59:59.999+08:00',
  rectificationDueAt: '2026-12-09T23:59:59.999+08:00',
  deadline: '2026-12-09T23:59:59.999+08:00',
  deadlineKind: 'rectification',
  label: '80%',
  rung: '督办',
  rungEn: 'supervision notice',
  level: 2,
  comment: '仍有摊点 & 杂物',
  granted: true,
  workingDays: 3,
  report: '已清理',
  request: 'extension',
  reason: '需协调',
  forKind: 'assignment',
  missingRole: '联络员',
  asOf: '2026-12-01T08:30:00.000+08:00',
  tasks: [{ caseId: 'DB-2026-000123', caseTitle: '人民路占道经营', status: '整改中', dueAt: '2026-12-09', overdue: false }],
  address: '人民路 88 号',
  toDepartmentName: '区市场监管局',
  forKindLabel: '交办',
  answer: '摊点已清理，恢复通行。',
  followUpDueAt: '2026-12-08T23:59:59.999+08:00',
  trackingCode: 'TS-7K3MQ-9Q2PX',
  ratingUrl: 'https://duban.example.gov.cn/api/v1/complaints/TS-7K3MQ-9Q2PX/rating',
  link: 'https://duban.example.gov.cn/cases/DB-2026-000123',
};

describe('notices: templates and channels, against a real SMTP server and a real HTTP receiver', () => {
  let mailbox: Mailbox;
  let receiver: Receiver;
  beforeAll(async () => {
    [mailbox, receiver] = await Promise.all([startMailbox(), startReceiver()]);
  });
  afterAll(async () => {
    await mailbox?.close();
    await receiver?.close();
  });

  it('renders every kind of notice in both languages, text as written and HTML escaped', () => {
    const renderer = createNoticeRenderer();
    for (const kind of noticeKinds) {
      for (const language of noticeLanguages) {
        const notice = renderer.render(kind, language, sample);
        expect(notice.subject, `${kind} ${language}`).not.toBe('');
        expect(notice.subject).not.toContain('\n');
        expect(notice.text, `${kind} ${language}`).toContain(sample.link);
        expect(notice.html).not.toContain('<script>');
        // Every field a template names is in the data: nothing renders as undefined or null.
        expect(notice.text, `${kind} ${language}`).not.toMatch(/undefined|null/);
        if (notice.text.includes('<script>')) expect(notice.html).toContain('&lt;script&gt;');
      }
    }
    const zh = renderer.render('escalation', 'zh-CN', sample);
    expect(zh.subject).toBe('【督办】人民路占道经营 <script>（DB-2026-000123）整改已超期');
    expect(zh.text).toContain('整改期限 2026-12-09T23:59:59.999+08:00 已过');
    const en = renderer.render('rework', 'en', sample);
    expect(en.subject).toBe('[Rework] 人民路占道经营 <script> (DB-2026-000123) did not pass verification');
    expect(en.text).toContain("The office's comment: 仍有摊点 & 杂物");
    expect(en.html).toContain('仍有摊点 &amp; 杂物');
    // A transfer granted names the department that takes over; one refused, the comment.
    expect(renderer.render('transfer_decision', 'zh-CN', sample).text).toContain('改由区市场监管局办理，贵单位的任务就此结束');
    expect(renderer.render('transfer_decision', 'en', { ...sample, granted: false }).text).toContain("The office's comment: 仍有摊点 & 杂物");
    // The complainant's answer: the answer, the code, the window and how to rate, with their tracking page as the link.
    const answer = renderer.render('answer', 'zh-CN', { ...sample, link: 'https://duban.example.gov.cn/api/v1/complaints/TS-7K3MQ-9Q2PX', linkKind: 'tracking' });
    expect(answer.text).toContain('摊点已清理，恢复通行。\n您的查询码：TS-7K3MQ-9Q2PX');
    expect(answer.text).toContain('请于 2026-12-08T23:59:59.999+08:00 前评价办理结果');
    expect(answer.text).toContain('向 https://duban.example.gov.cn/api/v1/complaints/TS-7K3MQ-9Q2PX/rating 提交（POST）');
    expect(answer.text).toContain('查看办理情况并评价: https://duban.example.gov.cn/api/v1/complaints/TS-7K3MQ-9Q2PX');
    expect(answer.html).toContain('>查看办理情况并评价</a>');
    expect(renderer.render('rating_dissatisfied', 'en', sample).text).toContain("The complainant's reason: 需协调");
    // An alert about a digest (no case) says so without a case id.
    expect(renderer.render('alert', 'zh-CN', { ...sample, caseId: null, forKindLabel: '每日汇总' }).subject).toBe('【提示】「每日汇总」通知无人可送');
  });

  it('hands mail to an SMTP server, with a stable Message-ID, and tells a refusal from a passing failure', async () => {
    const channel = createMailChannel({ host: '127.0.0.1', port: mailbox.port, secure: false, startTls: 'never', from: '督办系统 <duban@example.gov.cn>' });
    try {
      const { subject, text, html } = createNoticeRenderer().render('assignment', 'zh-CN', sample);
      await channel.send({ to: { name: '张三', address: 'zhangsan@example.gov.cn' }, subject, text, html, messageId: '<d-1@duban>', urgent: false });
      const [mail] = await mailbox.waitFor(1);
      expect(mail!.subject).toBe(subject);
      expect(mail!.messageId).toBe('<d-1@duban>');
      expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.value[0] : undefined).toMatchObject({ address: 'zhangsan@example.gov.cn', name: '张三' });
      expect(mail!.text).toContain('请于 2026-12-01T23:59:59.999+08:00 前签收');
      expect(mail!.html).toContain('<html lang="zh-CN">');
      mailbox.refuseNext(1, 451);
      const later = await channel.send({ to: { name: 'x', address: 'x@example.org' }, subject, text, html, messageId: '<d-2@duban>', urgent: false }).catch((e: unknown) => e);
      expect(later).toBeInstanceOf(ChannelError);
      expect((later as ChannelError).permanent).toBe(false);
      mailbox.refuseNext(1, 550);
      const never = await channel.send({ to: { name: 'x', address: 'x@example.org' }, subject, text, html, messageId: '<d-3@duban>', urgent: false }).catch((e: unknown) => e);
      expect((never as ChannelError).permanent).toBe(true);
      // What the timeline may show is the code; the server's whole answer stays with the office.
      expect((never as ChannelError).summary).toBe('SMTP 550');
      expect((later as ChannelError).summary).toBe('SMTP 451');
    } finally {
      channel.close();
    }
  });

  it('signs webhooks so that a receiver can check body and time, and tells refusals from passing failures', async () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    const channel = createWebhookChannel({ now: () => now });
    await channel.send({ url: receiver.url, secret: 's3cret', deliveryId: 'd-9', kind: 'escalation', payload: { caseId: 'DB-2026-000123', 中文: '督办' } });
    const [got] = await receiver.waitFor(1);
    expect(got!.headers['duban-delivery']).toBe('d-9');
    expect(got!.headers['duban-event']).toBe('escalation');
    const signature = String(got!.headers['duban-signature']);
    expect(verifyWebhook('s3cret', signature, got!.body, now / 1000 + 10)).toBe(true);
    // Another secret, an altered body, or a replay after the window: refused.
    expect(verifyWebhook('other', signature, got!.body, now / 1000)).toBe(false);
    expect(verifyWebhook('s3cret', signature, got!.body.replace('督办', '约谈'), now / 1000)).toBe(false);
    expect(verifyWebhook('s3cret', signature, got!.body, now / 1000 + 301)).toBe(false);
    expect(signWebhook('s3cret', now / 1000, got!.body)).toBe(signature);

    receiver.answerNext(503, 404);
    const passing = await channel.send({ url: receiver.url, secret: 's', deliveryId: 'd-10', kind: 'x', payload: {} }).catch((e: unknown) => e);
    expect((passing as ChannelError).permanent).toBe(false);
    expect((passing as ChannelError).summary).toBe('HTTP 503');
    const refused = await channel.send({ url: receiver.url, secret: 's', deliveryId: 'd-11', kind: 'x', payload: {} }).catch((e: unknown) => e);
    expect((refused as ChannelError).permanent).toBe(true);
    const unreachable = await createWebhookChannel({ timeoutMs: 500 }).send({ url: `http://127.0.0.1:${await freePort()}/none`, secret: 's', deliveryId: 'd', kind: 'x', payload: {} }).catch((e: unknown) => e);
    expect((unreachable as ChannelError).permanent).toBe(false);
    expect((unreachable as ChannelError).summary).toBe('webhook: ECONNREFUSED');
  });

  it('keeps a subject on one line whatever the case title holds', () => {
    const notice = createNoticeRenderer().render('assignment', 'zh-CN', { ...sample, caseTitle: '占道\r\n请将罚款转账至 6222…' });
    expect(notice.subject).toBe('【交办】占道 请将罚款转账至 6222…（DB-2026-000123）');
    expect(notice.text.split('\n')[0]).toBe('区城管局：');
  });
});

describe('the webhook receiver example of docs/notifications.md', () => {
  it('takes a signed notice once, and refuses a forged or stale one', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'docs', 'examples', 'webhook-receiver.mjs')], {
      env: { ...process.env, DUBAN_WEBHOOK_SECRET: 'the-secret', PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (c: Buffer) => c.toString('utf8').includes('listening') && resolve());
        child.once('exit', (code) => reject(new Error(`receiver exited ${code}`)));
      });
      const url = `http://127.0.0.1:${port}/`;
      const payload = { delivery: 'dl_1', kind: 'reminder', caseId: 'DB-2026-000001', subject: '【提醒】' };
      const hook = { url, secret: 'the-secret', deliveryId: 'dl_1', kind: 'reminder', payload };
      await createWebhookChannel().send(hook);
      // A resend of the same delivery is accepted and not taken twice, even with another id in
      // the (unsigned) header: the receiver goes by the id in the signed body.
      await createWebhookChannel().send(hook);
      await createWebhookChannel().send({ ...hook, deliveryId: 'dl_forged' });
      const forged = await createWebhookChannel().send({ ...hook, secret: 'guessed', payload: { ...payload, delivery: 'dl_2' } }).catch((e: unknown) => e);
      expect((forged as ChannelError).permanent).toBe(true);
      const stale = await createWebhookChannel({ now: () => Date.now() - 600_000 }).send({ ...hook, payload: { ...payload, delivery: 'dl_3' } }).catch((e: unknown) => e);
      expect(stale).toBeInstanceOf(ChannelError);
      await createWebhookChannel().send({ ...hook, deliveryId: 'dl_4', payload: { ...payload, delivery: 'dl_4' } });
      // The receiver logs each notice it takes; the second it took is the last one sent.
      for (let i = 0; i < 100 && !out.includes('dl_4'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(out.trim().split('\n').map((line) => JSON.parse(line) as { delivery: string })).toEqual([
        { delivery: 'dl_1', kind: 'reminder', caseId: 'DB-2026-000001', subject: '【提醒】' },
        { delivery: 'dl_4', kind: 'reminder', caseId: 'DB-2026-000001', subject: '【提醒】' },
      ]);
    } finally {
      child.kill();
    }
  });
});
