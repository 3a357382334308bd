import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/database';
import { createCalendarSource } from '../services/calendar.source';
import { createPolicySource } from '../services/policy.source';
import { tempDatabase } from './support/database';

/** A real pino logger whose JSON lines are kept for the test to read. */
function collectingLogger() {
  const lines: { level: number; msg: string; file?: string; issues?: { path: string; message: string }[] }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  const logger = pino({ level: 'info' }, stream);
  const errors = () => lines.filter((l) => l.level >= 50);
  return { logger, lines, errors };
}

/** Writes `text` to `file` and gives it the modification time `mtime`, as two edits in one second would. */
function writeAt(file: string, text: string, mtime: Date): void {
  fs.writeFileSync(file, text);
  fs.utimesSync(file, mtime, mtime);
}

describe('the policy file, edited while the worker runs', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    ({ dir, db } = await tempDatabase());
  });
  afterAll(() => db?.destroy());

  it('picks up two edits in a row, even of equal size within the same modification second', () => {
    const file = path.join(dir, 'policy-edits.json');
    const { logger } = collectingLogger();
    const policy = createPolicySource(file, { logger });
    const second = new Date('2026-11-25T08:00:00.000Z');
    writeAt(file, '{"acknowledgeWorkingDays": 2}', second);
    expect(policy().acknowledgeWorkingDays).toBe(2);
    writeAt(file, '{"acknowledgeWorkingDays": 3}', second);
    expect(fs.statSync(file).size).toBe(Buffer.byteLength('{"acknowledgeWorkingDays": 2}'));
    expect(policy().acknowledgeWorkingDays).toBe(3);
    writeAt(file, '{"acknowledgeWorkingDays": 4}', second);
    expect(policy().acknowledgeWorkingDays).toBe(4);
    expect(policy.problem()).toBeUndefined();
  });

  it('keeps the last valid version when an edit is malformed or invalid, reports each bad edit once, naming the file and the field', () => {
    const file = path.join(dir, 'policy-bad.json');
    const { logger, errors } = collectingLogger();
    const policy = createPolicySource(file, { logger });
    fs.writeFileSync(file, '{"acknowledgeWorkingDays": 3, "maxExtensionsPerTask": 1}');
    expect(policy()).toMatchObject({ acknowledgeWorkingDays: 3, maxExtensionsPerTask: 1 });

    fs.writeFileSync(file, '{"acknowledgeWorkingDays": 5,');
    for (let i = 0; i < 3; i++) expect(policy()).toMatchObject({ acknowledgeWorkingDays: 3, maxExtensionsPerTask: 1 });
    expect(policy.problem()?.message).toContain(`policy file ${file}: JSON 格式错误 / malformed JSON`);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ file, msg: expect.stringContaining('the last valid version stays in force') });

    fs.writeFileSync(file, '{"acknowledgeWorkingDays": 0, "escalation": {"rectification": [{"level": 5, "workingDaysOverdue": 1}]}}');
    for (let i = 0; i < 3; i++) expect(policy().acknowledgeWorkingDays).toBe(3);
    const problem = policy.problem();
    expect(problem?.code).toBe('invalid_input');
    expect(problem?.message).toContain(`invalid policy file ${file}`);
    expect(problem?.details.map((d) => d.path)).toEqual(['acknowledgeWorkingDays', 'escalation.rectification[0].level']);
    expect(errors()).toHaveLength(2);
    expect(errors()[1]!.issues?.map((i) => i.path)).toEqual(['acknowledgeWorkingDays', 'escalation.rectification[0].level']);

    // Another bad edit with the same mistake is a change too: reported again.
    fs.writeFileSync(file, '{"acknowledgeWorkingDays": 0, "escalation": {"rectification": [{"level": 5, "workingDaysOverdue": 2}]}}');
    policy();
    expect(errors()).toHaveLength(3);

    fs.writeFileSync(file, '{"acknowledgeWorkingDays": 4}');
    expect(policy()).toMatchObject({ acknowledgeWorkingDays: 4, maxExtensionsPerTask: 2 });
    expect(policy.problem()).toBeUndefined();
    expect(errors()).toHaveLength(3);
  });

  it('falls back to the defaults, with the problem reported, when the first version read is malformed; and when the file goes', () => {
    const file = path.join(dir, 'policy-first-bad.json');
    const { logger, errors } = collectingLogger();
    const policy = createPolicySource(file, { logger });
    fs.writeFileSync(file, 'not json');
    expect(policy().acknowledgeWorkingDays).toBe(1);
    expect(policy.problem()?.message).toContain(file);
    expect(errors()[0]?.msg).toContain('the defaults stay in force');
    fs.writeFileSync(file, '{"acknowledgeWorkingDays": 6}');
    expect(policy().acknowledgeWorkingDays).toBe(6);
    fs.rmSync(file);
    expect(policy().acknowledgeWorkingDays).toBe(1);
    expect(policy.problem()).toBeUndefined();
  });
});

describe('the calendar overrides file, edited while the worker runs', () => {
  let dir: string;
  let db: Db;
  beforeAll(async () => {
    ({ dir, db } = await tempDatabase());
  });
  afterAll(() => db?.destroy());

  it('picks up two edits within the same second and keeps the last valid version through a malformed one', async () => {
    const file = path.join(dir, 'calendar.json');
    const { logger, errors } = collectingLogger();
    const source = createCalendarSource({ db, timeZone: 'Asia/Shanghai', overridesFile: file, logger });
    const second = new Date('2026-11-25T08:00:00.000Z');
    // Thursday 24 and Friday 25 Dec 2026: ordinary working days until the file says otherwise.
    writeAt(file, '{"days": [{"date": "2026-12-24", "kind": "holiday"}]}', second);
    let calendar = await source();
    expect([calendar.isWorkingDay('2026-12-24'), calendar.isWorkingDay('2026-12-25')]).toEqual([false, true]);
    writeAt(file, '{"days": [{"date": "2026-12-25", "kind": "holiday"}]}', second);
    calendar = await source();
    expect([calendar.isWorkingDay('2026-12-24'), calendar.isWorkingDay('2026-12-25')]).toEqual([true, false]);

    writeAt(file, '{"days": [{"date": "2026-12-32", "kind": "holiday"}]}', second);
    calendar = await source();
    await source();
    expect([calendar.isWorkingDay('2026-12-24'), calendar.isWorkingDay('2026-12-25')]).toEqual([true, false]);
    expect(source.problem()?.details.map((d) => d.path)).toEqual(['days[0].date']);
    expect(source.problem()?.message).toContain(`calendar file ${file}`);
    expect(errors()).toHaveLength(1);

    writeAt(file, '{"days": []}', second);
    calendar = await source();
    expect(calendar.isWorkingDay('2026-12-25')).toBe(true);
    expect(source.problem()).toBeUndefined();
  });
});
