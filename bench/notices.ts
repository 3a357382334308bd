/**
 * The notices scenario of `npm run bench`: how fast the dispatcher empties a full outbox to a
 * local SMTP server and a local webhook receiver, against a baseline that makes the same sends
 * (the same rendered mail, the same signed POST) straight from a loop, without duban.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { migrateToLatest, openDatabase } from '../db/database';
import { insertDepartment } from '../db/department.repository';
import { insertNotices } from '../db/notice.repository';
import { createCaseService } from '../services/case.service';
import { createMailChannel } from '../services/mail.channel';
import { createNoticeRenderer } from '../services/notice.renderer';
import { createNoticeService } from '../services/notice.service';
import { noticeWaker } from '../services/notice.wake';
import { createPeopleService } from '../services/people.service';
import { signWebhook } from '../services/webhook.channel';
import { createDubanWorker } from '../worker/worker';

export interface NoticeFigures {
  readonly name: string;
  /** Deliveries made (a mail or a webhook each). */
  readonly deliveries: number;
  readonly seconds: number;
  readonly deliveriesPerSecond: number;
}

/** A local SMTP server that accepts and counts, and a local HTTP receiver that answers 200 and counts. */
async function startSinks() {
  let mails = 0;
  let hooks = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => {
        mails++;
        callback();
      });
    },
  });
  const smtpPort = await new Promise<number>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve((smtp.server.address() as { port: number }).port)));
  const receiver = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      hooks++;
      response.writeHead(200).end('ok');
    });
  });
  const receiverPort = await new Promise<number>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve((receiver.address() as { port: number }).port)));
  return {
    smtpPort,
    url: `http://127.0.0.1:${receiverPort}/hooks`,
    count: () => mails + hooks,
    async close() {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}

export async function runNoticesScenario(options: {
  client: Client;
  connection: NativeConnection;
  dir: string;
  notices: number;
}): Promise<NoticeFigures[]> {
  const sinks = await startSinks();
  const from = '督办 <duban@example.gov.cn>';
  const secret = crypto.randomBytes(32).toString('hex');
  const db = openDatabase(path.join(options.dir, 'notices.sqlite'));
  await migrateToLatest(db);
  await insertDepartment(db, { code: 'CG', name: '区城管局' }, new Date().toISOString());
  await createPeopleService({ db }).addPerson({ department: 'CG' }, { name: '赵联络员', post: '联络员', email: 'zhao@cg.example.gov.cn', roles: ['liaison'] });
  await createNoticeService({ db, secretKey: () => secret }).addWebhook({ name: '城管局业务系统', url: sinks.url, department: 'CG' });

  const taskQueue = 'bench-notices';
  const mail = createMailChannel({ host: '127.0.0.1', port: sinks.smtpPort, secure: false, startTls: 'never', from });
  const wakeNotices = noticeWaker(options.client, taskQueue);
  const worker = await createDubanWorker({
    connection: options.connection,
    namespace: 'default',
    taskQueue,
    db,
    timeZone: 'Asia/Shanghai',
    wakeNotices,
    notices: { mail, secretKey: () => secret, publicUrl: 'https://duban.example.gov.cn', client: options.client },
  });
  const running = worker.run();
  try {
    // One real case: its assignment notice is the model of every notice the bench queues.
    const service = createCaseService({ client: options.client, db, taskQueue, timeZone: 'Asia/Shanghai' });
    const { caseId } = await service.openCase(
      { title: '人民路占道经营', category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG', location: { address: '人民路 88 号' } },
      { role: 'office', name: 'bench' },
    );
    const sentCount = async () =>
      Number((await db.selectFrom('deliveries').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'sent').executeTakeFirstOrThrow()).n);
    while ((await sentCount()) < 2) await new Promise((r) => setTimeout(r, 50));
    const model = await db.selectFrom('notices').selectAll().where('case_id', '=', caseId).where('kind', '=', 'assignment').executeTakeFirstOrThrow();

    // Baseline: the same two sends per notice (the model's mail as rendered, a signed POST of the
    // same size), one after another as the dispatcher makes them, straight to the same sinks.
    const payload = JSON.parse(model.payload) as Record<string, unknown>;
    const rendered = createNoticeRenderer().render('assignment', 'zh-CN', { ...payload, caseId, caseTitle: '人民路占道经营', departmentName: '区城管局', recipientName: '赵联络员', link: null });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sinks.smtpPort, secure: false, ignoreTLS: true, pool: true, maxConnections: 2 });
    const body = JSON.stringify({ kind: 'assignment', caseId, subject: rendered.subject, text: rendered.text, data: payload });
    const baseStart = sinks.count();
    const baselineStarted = performance.now();
    for (let i = 0; i < options.notices; i++) {
      await transport.sendMail({ from, to: { name: '赵联络员', address: 'zhao@cg.example.gov.cn' }, subject: rendered.subject, text: rendered.text, html: rendered.html, messageId: `<baseline-${i}@duban>` });
      const response = await fetch(sinks.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'duban-delivery': `baseline-${i}`, 'duban-signature': signWebhook(secret, Math.floor(Date.now() / 1000), body) },
        body,
      });
      await response.arrayBuffer();
    }
    const baselineSeconds = (performance.now() - baselineStarted) / 1000;
    transport.close();
    if (sinks.count() - baseStart !== 2 * options.notices) throw new Error('the baseline lost sends');

    // duban: the same number of notices in the outbox at once; the dispatcher plans (directory,
    // one mail and one webhook each), renders, sends, settles and records each on the timeline.
    const now = new Date().toISOString();
    const before = await sentCount();
    const dubanStarted = performance.now();
    for (let offset = 0; offset < options.notices; offset += 500) {
      await insertNotices(
        db,
        Array.from({ length: Math.min(500, options.notices - offset) }, (_, i) => ({
          ...model,
          notice_key: `${model.notice_key}:bench-${offset + i}`,
          status: 'pending',
          not_before: now,
          created_at: now,
        })),
      );
    }
    await wakeNotices();
    while ((await sentCount()) - before < 2 * options.notices) await new Promise((r) => setTimeout(r, 100));
    const dubanSeconds = (performance.now() - dubanStarted) / 1000;
    const deliveries = 2 * options.notices;
    return [
      { name: 'baseline: the same sends in a loop', deliveries, seconds: baselineSeconds, deliveriesPerSecond: deliveries / baselineSeconds },
      { name: 'duban outbox → dispatcher', deliveries, seconds: dubanSeconds, deliveriesPerSecond: deliveries / dubanSeconds },
    ];
  } finally {
    worker.shutdown();
    await running;
    mail.close();
    await db.destroy();
    await sinks.close();
  }
}
