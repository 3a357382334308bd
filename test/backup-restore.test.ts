import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCaseQuery, getTaskQuery } from '../workflows/messages';
import { cli, freePort, kill, runCli, startWorkerProcess } from './support/processes';

interface Shown {
  case: { id: string; status: string };
  tasks: { id: string; department: string; status: string; submissionCount: number; reworkCount: number; acknowledgedAt: string | null }[];
  events: { action: string; taskId: string | null }[];
}

const png = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4720000000049454e44ae426082',
  'hex',
);

/** An installation of the embedded default (`npm start`) in its own data directory and ports. */
async function installation(root: string, name: string): Promise<NodeJS.ProcessEnv> {
  return {
    DUBAN_DATA_DIR: path.join(root, name),
    DUBAN_TEMPORAL_PORT: String(await freePort()),
    DUBAN_TEMPORAL_UI_PORT: String(await freePort()),
    DUBAN_API_PORT: String(await freePort()),
    DUBAN_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    DUBAN_TEMPORAL_METRICS_ADDRESS: `127.0.0.1:${await freePort()}`,
    DUBAN_BULLETIN_CRON: 'off',
    LOG_LEVEL: 'info',
  };
}

/**
 * Backup and restore of the embedded default, end to end with the built processes: cases in
 * several states, a backup taken while `npm start` runs and commands are in flight, the backup
 * restored into a fresh directory where a new `npm start` finishes every case. The restored read
 * model must agree with the restored workflows, task by task.
 */
describe('duban backup and duban restore', () => {
  let root: string;
  let original: NodeJS.ProcessEnv;
  let restored: NodeJS.ProcessEnv;
  let running: ChildProcess | undefined;
  const caseIds: string[] = [];

  // Some thirty commands, each a process of its own, on a shared machine: time, not a promise of speed.
  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-backup-'));
    original = await installation(root, 'original');
    restored = await installation(root, 'restored');
    running = await startWorkerProcess(original);
  });

  afterAll(async () => {
    if (running) await kill(running, 'SIGTERM');
    fs.rmSync(root, { recursive: true, force: true });
  });

  const show = async (env: NodeJS.ProcessEnv, caseId: string): Promise<Shown> => JSON.parse(await cli(['case', 'show', caseId], env)) as Shown;
  const open = async (title: string) => {
    const request = { title, category: '市容秩序', severity: 'serious', source: 'inspection', leadDepartment: 'CG', cooperatingDepartments: ['JD'], location: { address: '人民路 1 号' } };
    const id = (await cli(['case', 'open'], original, JSON.stringify(request))).trim();
    caseIds.push(id);
    return id;
  };

  it('takes a consistent backup while running, with commands in flight, and the running installation goes on', async () => {
    await cli(['department', 'add', '--code', 'CG', '--name', '区城管局'], original);
    await cli(['department', 'add', '--code', 'JD', '--name', '人民路街道'], original);
    const photo = path.join(root, 'after.png');
    fs.writeFileSync(photo, png);
    // Cases in several states: just opened, acknowledged, submitted with a photo, sent back, closed.
    const opened = await open('刚交办');
    const acknowledged = await open('已签收');
    await cli(['case', 'ack', acknowledged, '--dept', 'CG'], original);
    const submitted = await open('已提交');
    await cli(['case', 'ack', submitted, '--dept', 'CG'], original);
    await cli(['case', 'submit', submitted, '--dept', 'CG', '--report', '已清理', '--evidence', photo], original);
    const reworked = await open('返工');
    await cli(['case', 'ack', reworked, '--dept', 'JD'], original);
    await cli(['case', 'submit', reworked, '--dept', 'JD', '--report', '已劝导', '--evidence', 'https://example.org/1.jpg'], original);
    await cli(['case', 'verify', reworked, '--dept', 'JD', '--reject', '--comment', '仍有摊点'], original);
    const closed = await open('已结案');
    for (const dept of ['CG', 'JD']) {
      await cli(['case', 'ack', closed, '--dept', dept], original);
      await cli(['case', 'submit', closed, '--dept', dept, '--report', '完成', '--evidence', 'https://example.org/2.jpg'], original);
      await cli(['case', 'verify', closed, '--dept', dept, '--accept'], original);
    }
    expect((await fetch(`http://127.0.0.1:${original.DUBAN_API_PORT}/healthz`)).status).toBe(200);
    // The last acceptance answers before its case closes (the case workflow records the closing
    // once both tasks have finished): wait for the closing, then read the gauges.
    for (let tries = 0; (await show(original, closed)).case.status !== 'closed'; tries++) {
      if (tries > 100) throw new Error(`case ${closed} did not close`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const metricsBefore = await (await fetch(`http://${original.DUBAN_METRICS_ADDRESS}/metrics`)).text();
    expect(metricsBefore).toMatch(/^duban_cases_open 4$/m);
    expect(metricsBefore).toMatch(/^duban_worker_polling 1$/m);
    expect(metricsBefore).toMatch(/^duban_http_requests_total\{/m);
    const sdkMetrics = await (await fetch(`http://${original.DUBAN_TEMPORAL_METRICS_ADDRESS}/metrics`)).text();
    expect(sdkMetrics).toMatch(/^temporal_workflow_task_execution_latency/m);
    expect((await fetch(`http://${original.DUBAN_METRICS_ADDRESS}/readyz`)).status).toBe(200);

    // Commands in flight as the backup starts: each lands before the pause (and is in the
    // backup) or waits for the worker to come back (and is not); none is lost here.
    const inFlight = [
      runCli(['case', 'ack', opened, '--dept', 'CG'], original),
      runCli(['case', 'ack', opened, '--dept', 'JD'], original),
      runCli(['case', 'submit', acknowledged, '--dept', 'CG', '--report', '已整改', '--evidence', 'https://example.org/3.jpg'], original),
      runCli(['case', 'submit', reworked, '--dept', 'JD', '--report', '再次劝导', '--evidence', 'https://example.org/4.jpg'], original),
    ];
    await new Promise((r) => setTimeout(r, 300));
    const backupDir = path.join(root, 'backup');
    const backup = await runCli(['backup', '--to', backupDir], original);
    expect(backup.stderr).toBe('');
    expect(backup.code).toBe(0);
    const manifest = JSON.parse(backup.stdout) as { online: boolean; readModel: { cases: number; openCases: number }; evidence: { files: number } };
    expect(manifest).toMatchObject({ online: true, readModel: { cases: 5, openCases: 4 }, evidence: { files: 1 } });
    for (const result of await Promise.all(inFlight)) expect(result, result.stderr).toMatchObject({ code: 0 });
    // The running installation took a new worker after the pause.
    expect((await show(original, acknowledged)).tasks.find((t) => t.department === 'CG')?.status).toBe('submitted');

    // A second backup into the same directory is refused; the first stays whole.
    const again = await runCli(['backup', '--to', backupDir], original);
    expect(again.code).toBe(2);
    expect(fs.existsSync(path.join(backupDir, 'manifest.json'))).toBe(true);
  }, 900_000);

  it('restores into a fresh directory only, where the read model agrees with the workflows and every case can finish', async () => {
    await kill(running!, 'SIGINT');
    running = undefined;
    // With nothing running, the files are copied as they are.
    const offline = await runCli(['backup', '--to', path.join(root, 'offline')], original);
    expect(offline.stderr).toBe('');
    expect(JSON.parse(offline.stdout)).toMatchObject({ online: false, readModel: { cases: 5 }, evidence: { files: 1 } });
    // Not for an external cluster: the two databases could not be copied at one moment.
    const external = await runCli(['backup', '--to', path.join(root, 'external')], { ...original, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(external.code).toBe(5);
    expect(fs.existsSync(path.join(root, 'external'))).toBe(false);
    const backupDir = path.join(root, 'backup');
    const restore = await runCli(['restore', '--from', backupDir], restored);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    // Not over an installation.
    const twice = await runCli(['restore', '--from', backupDir], restored);
    expect(twice.code).toBe(5);
    expect(twice.stderr).toContain('fresh data directory');

    running = await startWorkerProcess(restored);
    const connection = await Connection.connect({ address: `127.0.0.1:${restored.DUBAN_TEMPORAL_PORT}` });
    const client = new Client({ connection });
    try {
      // Task by task, the read model says what the workflows say.
      for (const id of caseIds) {
        const shown = await show(restored, id);
        const state = await client.workflow.getHandle(id).query(getCaseQuery);
        expect(shown.case.status).toBe(state.status);
        expect(shown.tasks.map((t) => t.id).sort()).toEqual(state.tasks.map((t) => t.taskId).sort());
        for (const task of shown.tasks) {
          const snapshot = await client.workflow.getHandle(task.id).query(getTaskQuery);
          expect({ id: task.id, status: task.status, submissions: task.submissionCount, reworks: task.reworkCount, acknowledged: task.acknowledgedAt !== null }).toEqual({
            id: task.id,
            status: snapshot.status,
            submissions: snapshot.submissionCount,
            reworks: snapshot.reworkCount,
            acknowledged: snapshot.acknowledgedAt !== null,
          });
        }
      }
    } finally {
      await connection.close();
    }

    // The photo came along.
    const withPhoto = await show(restored, caseIds[2]!);
    const sha = (withPhoto.tasks.find((t) => t.department === 'CG') as unknown as { lastSubmission: { evidence: { sha256: string }[] } }).lastSubmission.evidence[0]!.sha256;
    expect(fs.readFileSync(path.join(restored.DUBAN_DATA_DIR!, 'evidence', sha.slice(0, 2), sha))).toEqual(png);

    // Finish every open case in the restored installation, from whatever state each task is in.
    for (const id of caseIds) {
      for (let round = 0; round < 4; round++) {
        const shown = await show(restored, id);
        if (shown.case.status === 'closed') break;
        for (const task of shown.tasks) {
          if (task.status === 'assigned') await cli(['case', 'ack', id, '--dept', task.department], restored);
          if (task.status === 'assigned' || task.status === 'acknowledged' || task.status === 'rework') {
            await cli(['case', 'submit', id, '--dept', task.department, '--report', '恢复后整改', '--evidence', 'https://example.org/5.jpg'], restored);
          }
          if (task.status !== 'accepted') await cli(['case', 'verify', id, '--dept', task.department, '--accept'], restored);
        }
      }
    }
    for (const id of caseIds) {
      let shown = await show(restored, id);
      for (let i = 0; shown.case.status !== 'closed' && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 200));
        shown = await show(restored, id);
      }
      expect(shown.case.status).toBe('closed');
      expect(shown.tasks.map((t) => t.status)).toEqual(['accepted', 'accepted']);
      // Each thing happened once: one assignment, at most one acknowledgement and one acceptance per task, one closing.
      const count = (action: string, taskId: string | null) => shown.events.filter((e) => e.action === action && e.taskId === taskId).length;
      expect(count('case.opened', null)).toBe(1);
      expect(count('case.closed', null)).toBe(1);
      for (const task of shown.tasks) {
        expect(count('task.assigned', task.id)).toBe(1);
        expect(count('task.acknowledged', task.id)).toBe(1);
        expect(count('task.accepted', task.id)).toBe(1);
        expect(count('task.submitted', task.id)).toBe(task.submissionCount);
      }
    }
  }, 900_000);
});
