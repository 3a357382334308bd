import os from 'node:os';
import { Option } from 'commander';
import { z } from 'zod';
import { localDateSchema } from '../domain/calendar';
import { formatInstant } from '../domain/time';
import { parseInput } from '../domain/validation';
import { type CliEnv, print, readJsonInput } from './context';

/** `duban calendar …`: the working-day calendar (工作日历). */
export function calendarCommands({ program, context, actorName }: CliEnv): void {
  const calendar = program.command('calendar').description('the working-day calendar (工作日历)');
  calendar
    .command('set')
    .description('make a date a local closure (--holiday) or an extra working day (--workday)')
    .argument('<date>', 'YYYY-MM-DD')
    .addOption(new Option('--holiday', 'a day off (local closure)').conflicts('workday'))
    .addOption(new Option('--workday', 'a working day').conflicts('holiday'))
    .option('--note <text>', 'why')
    .action(async (date: string, o: { holiday?: boolean; workday?: boolean; note?: string }) => {
      const input = { date, kind: o.holiday ? 'holiday' : o.workday ? 'workday' : undefined, ...(o.note ? { note: o.note } : {}) };
      print(await (await context().calendarService()).setDay(input, new Date().toISOString()));
    });
  calendar
    .command('unset')
    .description('remove a local calendar day')
    .argument('<date>', 'YYYY-MM-DD')
    .action(async (date: string) => {
      print({ removed: await (await context().calendarService()).unsetDay(date) });
    });
  calendar
    .command('list')
    .description('the local calendar days set at run time')
    .action(async () => print(await (await context().calendarService()).listDays()));
  calendar
    .command('check')
    .description('whether a date is a working day, and the deadline N working days after it')
    .argument('<date>', 'YYYY-MM-DD')
    .option('--days <n>', 'working days to add', (v) => Number(v))
    .action(async (date: string, o: { days?: number }) => {
      const day = parseInput(localDateSchema, date, 'date');
      const days = o.days === undefined ? undefined : parseInput(z.number().int().min(0).max(365), o.days, 'days');
      const cal = await (await context().calendarService()).calendar();
      const due = days === undefined ? {} : { dueAfter: formatInstant(cal.endOfDay(cal.nthWorkingDayAfter(day, days)), cal.zone) };
      print({ date: day, workingDay: cal.isWorkingDay(day), officialDataCovers: cal.covers(day), ...due });
    });
  calendar
    .command('import')
    .description('import a whole year’s official arrangement (holidays and make-up working days) from JSON; replaces that year')
    .argument('<file>', 'the JSON file ("-" for standard input); format in docs/deadlines.md')
    .action(async (file: string) => {
      const by = actorName() ?? `${os.userInfo().username} (督办)`;
      const { year, replaced } = await (await context().calendarService()).importYear(readJsonInput(file), by, new Date().toISOString());
      const count = (groups: { dates: string[] }[]) => groups.reduce((n, g) => n + g.dates.length, 0);
      print({ imported: year.year, replaced, holidays: count(year.holidays), workdays: count(year.workdays) });
    });
  calendar
    .command('years')
    .description('which years have official holiday data (built in or imported), and what is missing')
    .action(async () => {
      const service = await context().calendarService();
      const coverage = await service.coverage(new Date());
      const imported = (await service.listYears()).map(({ year, notice, importedAt, importedBy }) => ({
        year,
        notice: notice ?? null,
        importedAt: formatInstant(importedAt, context().config.timeZone),
        importedBy,
      }));
      print({ ...coverage, imported });
    });
}
