import { z } from 'zod';

/** Case ids read like office file numbers: DB-<year>-<sequence>, e.g. DB-2026-000123. */
export const caseIdSchema = z
  .string()
  .regex(/^DB-\d{4}-\d{6,}$/, '案件编号形如 DB-2026-000123 / a case id looks like DB-2026-000123');

export function formatCaseId(year: number, sequence: number): string {
  return `DB-${year}-${String(sequence).padStart(6, '0')}`;
}

/** A case's n-th task (1-based): DB-2026-000123-T1. */
export function taskIdFor(caseId: string, n: number): string {
  return `${caseId}-T${n}`;
}

export const taskIdSchema = z
  .string()
  .regex(/^DB-\d{4}-\d{6,}-T\d+$/, '任务编号形如 DB-2026-000123-T1 / a task id looks like DB-2026-000123-T1');
