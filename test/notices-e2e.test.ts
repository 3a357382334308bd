import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDatabase } from '../db/database';
import { createPeopleService } from '../services/people.service';
import type { DevServer } from '../worker/dev-server';
import { processDatabase } from './support/database';
import { type Mailbox, startMailbox } from './support/mailbox';
import { cli, freePort, kill, startTestDevServer, startWorkerProcess } from './support/processes';
import { type Receiver, startReceiver } from './support/receiver';

/** The Message-ID the dispatcher gives a delivery (services/notice.dispatcher.ts): stable per delivery key. */
const messageIdOf = (key: string) => `<${crypto.createHash('sha256').update(key).digest('hex').slice(0, 32)}@duban>`;

const waitUntil = async (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 150_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/**
 * Notices through the built worker on the Temporal dev server, to a real (slow) SMTP server and a
 * real HTTP receiver, with the worker killed by SIGKILL in the middle of a round: every delivery
 * arrives and none is lost. None arrives twice, but for one that a receiver may have accepted in
 * the instant between its answer and the worker recording it (no protocol can tell): that one
 * comes again with the same Message-ID (or Duban-Delivery), for the receiver to drop.
 */
describe('notices survive a worker killed mid-round', () => {
  let dir: string;
  let server: DevServer;
  let worker: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let mailbox: Mailbox;
  let receiver: Receiver;
  let db: Db;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-notices-e2e-'));
    // Each message takes the server a while to accept, so that the kill finds a round mid-batch.
    [mailbox, receiver] = await Promise.all([startMailbox({ delayMs: 120 }), startReceiver()]);
    const port = await freePort();
    server = await startTestDevServer(dir, port);
    const database = await processDatabase(path.join(dir, 'data'));
    env = {
      ...database.env,
      TEMPORAL_ADDRESS: server.address,
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      DUBAN_TASK_QUEUE: `notices-e2e-${port}`,
      DUBAN_API_PORT: String(await freePort()),
      DUBAN_SMTP_HOST: '127.0.0.1',
      DUBAN_SMTP_PORT: String(mailbox.port),
      DUBAN_SMTP_STARTTLS: 'never',
      DUBAN_MAIL_FROM: '督办 <duban@example.gov.cn>',
      DUBAN_SECRET_KEY: crypto.randomBytes(32).toString('hex'),
      LOG_LEVEL: 'info',
    };
    worker = await startWorkerProcess(env);
    db = openDatabase(database.url);
  });

  afterAll(async () => {
    if (worker) await kill(worker, 'SIGTERM');
    await db?.destroy();
    await server?.stop();
    await mailbox?.close();
    await receiver?.close();
  });

  it('delivers every notice, each once but for the one in flight, which keeps its id', async () => {
    await cli(['department', 'add', '--code', 'CG', '--name', '区城管局'], env);
    await cli(['webhook', 'add', '--name', '城管局业务系统', '--url', receiver.url, '--dept', 'CG'], env);
    const people = createPeopleService({ db });
    for (let i = 1; i <= 12; i++) {
      await people.addPerson({ department: 'CG' }, { name: `联络员${i}`, post: '联络员', email: `liaison${i}@cg.example.gov.cn`, roles: ['liaison'] });
    }
    const caseIds: string[] = [];
    for (let i = 1; i <= 5; i++) {
      const request = { title: `占道经营 ${i}`, category: '市容秩序', severity: 'general', source: 'inspection', leadDepartment: 'CG' };
      caseIds.push((await cli(['case', 'open'], env, JSON.stringify(request))).trim());
    }
    const deliveries = () => db.selectFrom('deliveries').select(['id', 'delivery_key', 'channel', 'status', 'claim_id']).execute();

    // Mid-round: some mail has arrived, some is claimed and waiting, when the worker dies. (On a
    // loaded machine a round may sit between two batches when the tenth mail arrives: wait for
    // the moment a round holds claims, then kill at once.)
    await mailbox.waitFor(10, 60_000);
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      if ((await deliveries()).some((d) => d.status === 'sending')) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await kill(worker!, 'SIGKILL');
    const atKill = await deliveries();
    const arrivedAtKill = mailbox.received.length;
    expect(atKill.filter((d) => d.status === 'sending').length, 'the kill found a round with claims').toBeGreaterThan(0);
    expect(atKill.filter((d) => d.status !== 'sent').length, 'the kill found notices still to send').toBeGreaterThan(1);
    worker = await startWorkerProcess(env);
    await waitUntil('every delivery is sent', async () => {
      const rows = await deliveries();
      return rows.length >= 5 * 13 && rows.every((d) => d.status === 'sent');
    });
    const rows = await deliveries();
    expect(rows.length).toBe(5 * 13);
    expect(mailbox.received.length).toBeGreaterThan(arrivedAtKill);

    // Mail: exactly the planned Message-IDs; a repeat only of the one on the wire at the kill.
    const mailKeys = rows.filter((d) => d.channel === 'email').map((d) => d.delivery_key);
    expect(mailKeys).toHaveLength(5 * 12);
    const mailIds = mailbox.received.map((m) => m.messageId);
    expect(new Set(mailIds)).toEqual(new Set(mailKeys.map(messageIdOf)));
    // Webhooks: exactly the planned Duban-Delivery ids (the ids the office lists).
    const hookIds = receiver.received.map((r) => r.headers['duban-delivery']);
    expect(new Set(hookIds)).toEqual(new Set(rows.filter((d) => d.channel === 'webhook').map((d) => d.id)));
    const repeats = mailIds.length - new Set(mailIds).size + (hookIds.length - new Set(hookIds).size);
    expect(repeats, 'only a delivery accepted at the instant of the kill may arrive twice').toBeLessThanOrEqual(1);

    // Each case's timeline says once per delivery that it was sent.
    for (const caseId of caseIds) {
      const sent = await db.selectFrom('events').select('payload').where('case_id', '=', caseId).where('action', '=', 'notice.sent').execute();
      expect(sent).toHaveLength(13);
    }

  }, 240_000);
});
