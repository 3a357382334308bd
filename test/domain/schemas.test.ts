import { describe, expect, it } from 'vitest';
import { formatCaseId, caseIdSchema } from '../../domain/case-id';
import { leadNotCooperating, openCaseRequestSchema, verifyInputSchema } from '../../domain/case.schema';
import { type DomainError } from '../../domain/errors';
import { dueInstant, yearIn } from '../../domain/time';
import { parseInput } from '../../domain/validation';

const valid = {
  title: '井盖缺失',
  category: '市政设施',
  severity: 'major',
  source: 'hotline',
  leadDepartment: 'SZ',
};

function issues(input: unknown): { path: string; message: string }[] {
  try {
    parseInput(openCaseRequestSchema, input, 'case');
  } catch (error) {
    return [...(error as DomainError).details];
  }
  return [];
}

describe('input schemas', () => {
  it('accepts a minimal case and fills the defaults', () => {
    expect(parseInput(openCaseRequestSchema, valid, 'case')).toMatchObject({
      description: '',
      cooperatingDepartments: [],
      evidence: [],
    });
  });

  it('names each bad field with a Chinese and English reason', () => {
    const found = issues({ ...valid, severity: 'urgent', title: '  ', location: { address: 'x', lat: 91, lng: 1 }, extra: 1 });
    expect(found.map((i) => i.path).sort()).toEqual(['extra', 'location.lat', 'severity', 'title']);
    const severity = found.find((i) => i.path === 'severity');
    expect(severity?.message).toMatch(/无效选项.*\/ Invalid option/);
  });

  it('refuses a department listed twice, a lone latitude, a bad URL and a bad due date', () => {
    expect(issues({ ...valid, cooperatingDepartments: ['JD', 'JD'] }).map((i) => i.path)).toEqual(['cooperatingDepartments']);
    // The lead among the cooperating departments is a rule of the case service (it names the field too).
    expect(leadNotCooperating({ leadDepartment: 'SZ', cooperatingDepartments: ['JD', 'SZ'] })).toBe(1);
    expect(issues({ ...valid, location: { address: 'x', lat: 30 } }).map((i) => i.path)).toEqual(['location.lat']);
    expect(issues({ ...valid, evidence: [{ url: 'ftp://x/y' }] }).map((i) => i.path)).toEqual(['evidence[0].url']);
    expect(issues({ ...valid, dueDate: '2026-13-01' }).map((i) => i.path)).toEqual(['dueDate']);
    expect(issues({ ...valid, dueDate: '2026-12-01T10:00:00' }).map((i) => i.path)).toEqual(['dueDate']);
    expect(issues({ ...valid, dueDate: '2026-12-01T10:00:00+08:00' })).toEqual([]);
  });

  it('requires a comment to reject', () => {
    expect(() => parseInput(verifyInputSchema, { decision: 'reject' }, 'verify')).toThrow(/comment/);
    expect(parseInput(verifyInputSchema, { decision: 'accept' }, 'verify')).toEqual({ decision: 'accept' });
  });
});

describe('case ids and times', () => {
  it('formats case ids like office file numbers', () => {
    expect(formatCaseId(2026, 123)).toBe('DB-2026-000123');
    expect(formatCaseId(2026, 1234567)).toBe('DB-2026-1234567');
    expect(caseIdSchema.safeParse('DB-2026-000123').success).toBe(true);
    expect(caseIdSchema.safeParse('DB-26-1').success).toBe(false);
  });

  it('takes the year in the office time zone', () => {
    // 16:30 UTC on 31 December is already 1 January in Shanghai.
    expect(yearIn(new Date('2025-12-31T16:30:00Z'), 'Asia/Shanghai')).toBe(2026);
    expect(yearIn(new Date('2025-12-31T16:30:00Z'), 'UTC')).toBe(2025);
  });

  it('reads a due date as the end of that day in the office zone', () => {
    expect(dueInstant('2026-12-01', 'Asia/Shanghai')).toBe('2026-12-01T15:59:59.999Z');
    expect(dueInstant('2026-12-01T10:00:00+08:00', 'Asia/Shanghai')).toBe('2026-12-01T02:00:00.000Z');
  });
});
