import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, runCli } from './support/processes';
import { dumpReadModel, processDatabase } from './support/database';

/**
 * The built CLI (bin/duban.js) on a data directory of its own: the calendar and policy commands
 * need no Temporal server.
 */
describe('duban calendar and policy commands', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const file = (name: string, content: string) => {
    const full = path.join(dir, name);
    fs.writeFileSync(full, content);
    return full;
  };

  let database: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-cli-'));
    const read = await processDatabase(path.join(dir, 'data'));
    database = read.url;
    env = { ...read.env, DUBAN_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'silent' };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const json = async (args: string[], input?: string): Promise<any> => JSON.parse(await cli(args, env, input));

  it('imports a year from a file or standard input, refusing bad input with the field named and nothing stored', async () => {
    const before = await json(['calendar', 'check', '2027-01-01', '--days', '1']);
    expect(before).toMatchObject({ workingDay: true, officialDataCovers: false });
    expect((await json(['calendar', 'years'])).warnings.join('\n')).toContain('2027');

    const unchanged = await dumpReadModel(database);
    const weekday = file('bad.json', JSON.stringify({ year: 2027, holidays: [{ name: '元旦', dates: ['2027-01-01'] }], workdays: [{ name: '元旦', dates: ['2027-01-04'] }] }));
    const refused = await runCli(['calendar', 'import', weekday], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('workdays[0].dates[0]');
    expect(refused.stderr).toContain('a make-up working day falls on a Saturday or Sunday');
    const malformed = await runCli(['calendar', 'import', file('malformed.json', '{"year": 2027,')], env);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('malformed JSON');
    expect((await runCli(['calendar', 'import', path.join(dir, 'missing.json')], env)).code).toBe(2);
    expect(await dumpReadModel(database)).toBe(unchanged);

    const arrangement = { year: 2027, notice: '测试用安排', holidays: [{ name: '元旦', dates: ['2027-01-01', '2027-01-02', '2027-01-03'] }] };
    expect(await json(['calendar', 'import', file('2027.json', JSON.stringify(arrangement))])).toEqual({
      imported: 2027,
      replaced: false,
      holidays: 3,
      workdays: 0,
    });
    expect(await json(['--as', '督查科 王五', 'calendar', 'import', '-'], JSON.stringify(arrangement))).toMatchObject({ replaced: true });
    const after = await json(['calendar', 'check', '2026-12-31', '--days', '1']);
    expect(after).toMatchObject({ officialDataCovers: true, dueAfter: '2027-01-04T23:59:59.999+08:00' });
    expect(await json(['calendar', 'check', '2027-01-01'])).toMatchObject({ workingDay: false, officialDataCovers: true });
    const years = await json(['calendar', 'years']);
    expect(years.importedYears).toEqual([2027]);
    expect(years.officialYears.at(-1)).toBe(2027);
    expect(years.imported).toEqual([{ year: 2027, notice: '测试用安排', importedAt: expect.stringMatching(/\+08:00$/), importedBy: '督查科 王五' }]);
  });

  it('refuses to show a malformed policy or calendar file as if it were in force, naming the file and the field', async () => {
    const policyFile = file('policy.json', '{"acknowledgeWorkingDays": 0}');
    const policy = await runCli(['policy'], { ...env, DUBAN_POLICY_FILE: policyFile });
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain(`policy file ${policyFile}`);
    expect(policy.stderr).toContain('acknowledgeWorkingDays');
    fs.writeFileSync(policyFile, '{"acknowledgeWorkingDays": 2}');
    expect(JSON.parse(await cli(['policy'], { ...env, DUBAN_POLICY_FILE: policyFile }))).toMatchObject({
      file: policyFile,
      policy: { acknowledgeWorkingDays: 2 },
    });
    // No file: the defaults.
    expect(await json(['policy'])).toMatchObject({ file: null, policy: { acknowledgeWorkingDays: 1 } });

    const calendarFile = file('calendar.json', '{"days": [{"date": "2027-02-30", "kind": "holiday"}]}');
    const check = await runCli(['calendar', 'check', '2027-02-01'], { ...env, DUBAN_CALENDAR_FILE: calendarFile });
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(`calendar file ${calendarFile}`);
    expect(check.stderr).toContain('days[0].date');
  });

  it('keeps every documented command group and command', async () => {
    const help = await cli(['--help'], env);
    for (const group of ['department', 'case', 'token', 'calendar', 'policy', 'outbox']) expect(help).toContain(group);
    const calendarHelp = await cli(['calendar', '--help'], env);
    for (const command of ['set', 'unset', 'list', 'check', 'import', 'years']) expect(calendarHelp).toMatch(new RegExp(`\\n\\s+${command}\\b`));
    const caseHelp = await cli(['case', '--help'], env);
    for (const command of ['open', 'ack', 'progress', 'submit', 'verify', 'withdraw', 'show', 'list', 'extend', 'extension', 'transfer', 'reject-transfer', 'reassign', 'suspend', 'resume']) {
      expect(caseHelp).toMatch(new RegExp(`\\n\\s+${command}\\b`));
    }
  });
});
