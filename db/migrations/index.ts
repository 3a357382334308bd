import type { Migration } from 'kysely';
import * as initial from './2026-11-25-initial';
import * as deadlines from './2026-11-26-deadlines';
import * as api from './2026-11-27-api';
import * as listIndexes from './2026-11-28-list-indexes';
import * as calendarYears from './2026-11-29-calendar-years';
import * as publicHardening from './2026-11-30-public-hardening';
import * as people from './2026-12-01-people';
import * as notices from './2026-12-02-notices';
import * as bulletins from './2026-12-03-bulletins';
import * as followUp from './2026-12-04-follow-up';
import * as journalFences from './2026-12-05-journal-fences';
import * as caseRevisions from './2026-12-06-case-revisions';

/** Every migration, by dated name; the migrator applies them in name order. */
export const migrations: Record<string, Migration> = {
  '2026-11-25-initial': initial,
  '2026-11-26-deadlines': deadlines,
  '2026-11-27-api': api,
  '2026-11-28-list-indexes': listIndexes,
  '2026-11-29-calendar-years': calendarYears,
  '2026-11-30-public-hardening': publicHardening,
  '2026-12-01-people': people,
  '2026-12-02-notices': notices,
  '2026-12-03-bulletins': bulletins,
  '2026-12-04-follow-up': followUp,
  '2026-12-05-journal-fences': journalFences,
  '2026-12-06-case-revisions': caseRevisions,
};
