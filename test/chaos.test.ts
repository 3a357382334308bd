import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../scripts/binaries';

interface Summary {
  kills: { total: number; byRole: Record<string, number> };
  cases: { api: number; alarm: number; statesChecked: number };
  events: Record<string, { expected: number; actual: number }>;
  deliveries: { expected: number; planned: number; email: { distinct: number }; webhook: { distinct: number }; repeats: { killedBetween: string[] }[] };
  failures: number;
}

/** Runs the built fault run (dist/bench/chaos.js) with `args`; its exit code, its output and its JSON summary. */
function runChaos(args: string[]): Promise<{ code: number; output: string; summary: Summary | null }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(projectRoot(), 'dist', 'bench', 'chaos.js'), ...args],
      { cwd: projectRoot(), maxBuffer: 64 * 1024 * 1024, timeout: 290_000 },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('{"scenario":"chaos"'));
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          output: `${stdout}\n${stderr}`,
          summary: line ? (JSON.parse(line) as Summary) : null,
        });
      },
    );
  });
}

/**
 * The fault run, small: 20 cases through the HTTP API and 2 tasks whose rungs and reminder fall
 * due during the run, with notices to a real SMTP server and a real webhook receiver, while the
 * worker, the API or the Temporal server is SIGKILLed 3 times and restarted. Every case ends in
 * its state, every event and every delivery is there exactly as many times as the commands that
 * took effect call for, and nothing arrives twice but a delivery on the wire at a kill.
 */
describe('npm run chaos', () => {
  it('loses and duplicates nothing while processes are killed', async () => {
    const { code, output, summary } = await runChaos(['--cases', '20', '--alarm-cases', '2', '--kills', '3', '--kill-every', '2-5', '--seed', '3', '--timeout-minutes', '4']);
    expect(summary, output).not.toBeNull();
    expect(summary!.failures, output).toBe(0);
    expect(code, output).toBe(0);
    expect(summary!.kills.total).toBe(3);
    expect(summary!.cases).toMatchObject({ api: 20, alarm: 2, statesChecked: 22 });
    for (const [action, counts] of Object.entries(summary!.events)) expect(counts.actual, action).toBe(counts.expected);
    // The run did what it claims: cases closed, tasks sent back, rungs and a reminder fired, notices delivered.
    expect(summary!.events['case.closed']?.actual).toBe(20);
    expect(summary!.events['task.rejected']?.actual).toBeGreaterThan(0);
    expect(summary!.events['task.escalated']?.actual).toBe(8);
    expect(summary!.events['task.reminded']?.actual).toBe(1);
    expect(summary!.deliveries.planned).toBe(summary!.deliveries.expected);
    expect(summary!.deliveries.email.distinct + summary!.deliveries.webhook.distinct).toBe(summary!.deliveries.expected);
    for (const repeat of summary!.deliveries.repeats) expect(repeat.killedBetween.length).toBeGreaterThan(0);
  }, 300_000);
});
