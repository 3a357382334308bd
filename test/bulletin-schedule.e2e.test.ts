import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bulletinScheduleId } from '../services/bulletin.schedule';
import type { DevServer } from '../worker/dev-server';
import { processDatabase } from './support/database';
import { cli, freePort, kill, runCli, startTestDevServer, startWorkerProcess } from './support/processes';

interface Summary {
  id: string;
  status: string;
  number: string | null;
  period: { from: string; to: string };
}

/**
 * The bulletin Schedule on the dev server (the time-skipping test server has no Schedules): the
 * built worker creates it from its configuration, brings it to a changed configuration at the next
 * start and removes it when switched off; a fired schedule drafts the week before, once; the office
 * works the draft through the built CLI.
 */
describe('the bulletin Schedule and the CLI on the dev server', () => {
  let dir: string;
  let server: DevServer;
  let worker: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv;
  let client: Client;
  let connection: Connection;
  let taskQueue: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-schedule-'));
    const port = await freePort();
    server = await startTestDevServer(dir, port);
    taskQueue = `schedule-${port}`;
    env = {
      ...(await processDatabase(path.join(dir, 'data'))).env,
      TEMPORAL_ADDRESS: server.address,
      DUBAN_DATA_DIR: path.join(dir, 'data'),
      DUBAN_TASK_QUEUE: taskQueue,
      DUBAN_API_PORT: String(await freePort()),
      DUBAN_BULLETIN_CRON: '0 9 * * 1',
      LOG_LEVEL: 'info',
    };
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    worker = await startWorkerProcess(env);
  });

  afterAll(async () => {
    if (worker) await kill(worker, 'SIGTERM');
    await connection?.close();
    await server?.stop();
  });

  const schedule = () => client.schedule.getHandle(bulletinScheduleId(taskQueue));

  it('is created from the configuration: Mondays 09:00 in the office zone, drafting bulletins', async () => {
    const described = await schedule().describe();
    expect(described.spec.timezone).toBe('Asia/Shanghai');
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'bulletinDraftWorkflow', taskQueue });
    expect(described.info.nextActionTimes.length).toBeGreaterThan(0);
    for (const next of described.info.nextActionTimes) {
      const local = DateTime.fromJSDate(next, { zone: 'Asia/Shanghai' });
      expect([local.weekday, local.hour, local.minute]).toEqual([1, 9, 0]);
    }
  });

  it('drafts the week before when it fires, once however often it fires', async () => {
    await schedule().trigger();
    // The Monday-to-Sunday week before today's, worked out here from the clock.
    const today = DateTime.now().setZone('Asia/Shanghai').startOf('day');
    const lastMonday = today.minus({ days: today.weekday - 1 + 7 });
    const expected = { from: lastMonday.toISODate()!, to: lastMonday.plus({ days: 6 }).toISODate()! };
    let drafts: Summary[] = [];
    for (let i = 0; i < 100 && drafts.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      drafts = JSON.parse(await cli(['bulletin', 'list'], env)) as Summary[];
    }
    expect(drafts.map((d) => d.period)).toEqual([expected]);
    // Fired again for the same period: still one draft.
    await schedule().trigger();
    await new Promise((r) => setTimeout(r, 2000));
    expect((JSON.parse(await cli(['bulletin', 'list'], env)) as Summary[]).map((d) => d.id)).toEqual([drafts[0]!.id]);
  });

  it('lets the office draft, decide, approve and correct through the CLI', async () => {
    await cli(['department', 'add', '--code', 'CG', '--name', '区城管局'], env);
    const draft = JSON.parse(await cli(['bulletin', 'draft', '--from', '2026-06-01', '--to', '2026-06-30'], env)) as Summary;
    expect(draft).toMatchObject({ status: 'draft', period: { from: '2026-06-01', to: '2026-06-30' }, number: null });
    const bad = await runCli(['bulletin', 'draft', '--from', '2026-06-30', '--to', '2026-06-01'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('to');
    const published = JSON.parse(await cli(['bulletin', 'approve', draft.id], env)) as Summary;
    expect(published.status).toBe('published');
    expect(published.number).toMatch(/^\d{4}年第1期$/);
    // A second approval is refused as the state's: exit 5.
    expect((await runCli(['bulletin', 'approve', draft.id], env)).code).toBe(5);
    const correction = JSON.parse(await cli(['bulletin', 'correct', draft.id, '--reason', '数据更正'], env)) as Summary & { version: number };
    expect(correction).toMatchObject({ status: 'draft', version: 2 });

    // Assessment rules: versions from today on, shown as in force.
    const today = DateTime.now().setZone('Asia/Shanghai').toISODate()!;
    const rules = path.join(dir, 'rules.json');
    fs.writeFileSync(rules, JSON.stringify({ baseScore: 100, pointsOff: { rework: 1 } }));
    await cli(['assessment', 'add', '--from', today, '--file', rules, '--note', '返工加重'], env);
    const shown = JSON.parse(await cli(['assessment', 'show', '--on', today], env)) as { version: number; rules: { pointsOff: { rework: number } } };
    expect(shown).toMatchObject({ version: 1, rules: { pointsOff: { rework: 1 } } });
    const past = await runCli(['assessment', 'add', '--from', '2020-01-01', '--file', rules], env);
    expect(past.code).toBe(2);
    expect(past.stderr).toContain('effectiveFrom');
    expect(JSON.parse(await cli(['escalations', 'list'], env))).toEqual({ items: [], next: null });
  });

  it('follows a changed configuration at the next start, and goes when switched off', async () => {
    await kill(worker!, 'SIGTERM');
    worker = await startWorkerProcess({ ...env, DUBAN_BULLETIN_CRON: '30 8 1 * *', DUBAN_BULLETIN_PERIOD: 'month' });
    const described = await schedule().describe();
    for (const next of described.info.nextActionTimes) {
      const local = DateTime.fromJSDate(next, { zone: 'Asia/Shanghai' });
      expect([local.day, local.hour, local.minute]).toEqual([1, 8, 30]);
    }
    expect(described.action).toMatchObject({ args: [{ periodKind: 'month', origin: 'schedule' }] });

    await kill(worker, 'SIGTERM');
    worker = await startWorkerProcess({ ...env, DUBAN_BULLETIN_CRON: 'off' });
    await expect(schedule().describe()).rejects.toMatchObject({ name: 'ScheduleNotFoundError' });
  });
});
