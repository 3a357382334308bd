import { type CaseView, isOverdue, toCaseView } from '../db/case.mapper';
import type { CaseKey } from '../db/case.repository';
import type { CaseTable } from '../db/schema';
import { settle } from './settled';

/**
 * A process's cache of case views for list pages. A page reads only the ids, revisions and
 * deadlines of its cases (db/case.repository.ts, listCaseKeys); a view is taken from here while its
 * revision is the row's (the database raises it on every update of the row), and read afresh
 * otherwise. `overdue` depends on the time of the request, not on the row: a view is kept in each
 * of its two states, chosen per request. Views are settled (deep-frozen), so that the response
 * writer may keep their JSON too. At most `capacity` cases are kept, and at most `textBudget`
 * characters of their rows' text (a case may carry 5,000 characters of description and fifty
 * evidence entries; each kept case costs about five times its text with the JSON the writer keeps
 * for its variants), the least recently listed dropped first.
 */
export interface CaseViewCache {
  /**
   * The views of `keys`, in their order, as the office (`department` false) or a department sees
   * them at `now`; undefined when a row changed between the page's read and `read`'s (the caller
   * reads the page again).
   */
  views(keys: readonly CaseKey[], now: string, department: boolean, read: (ids: string[]) => Promise<CaseTable[]>): Promise<CaseView[] | undefined>;
  /** How many cases are kept (for tests and metrics). */
  readonly size: number;
  /** The characters of text of the rows kept. */
  readonly weight: number;
}

interface Entry {
  readonly revision: number;
  /** The characters of text in its row, what it is counted at against the budget. */
  readonly weight: number;
  /** The view read from the row; the shown variants are made from it on demand. */
  readonly row: CaseView;
  /** [office, department] × [not overdue, overdue]. */
  readonly shown: (CaseView | undefined)[];
}

/** A case as a department sees it: the complaint's tracking code is the office's and the complainant's. */
export function withoutComplaintCode<T extends { complaintCode: string | null }>(view: T): T {
  return { ...view, complaintCode: null };
}

function variant(base: CaseView, overdue: boolean, department: boolean): CaseView {
  const view = { ...base, overdue };
  return settle(department ? withoutComplaintCode(view) : view);
}

const overdueOf = (key: CaseKey, now: string) => isOverdue(key.status, key.work_due_at, now);

/** The characters of text a row holds (each other value counted as eight). */
function weightOf(row: CaseTable): number {
  let weight = 0;
  for (const value of Object.values(row)) weight += typeof value === 'string' ? value.length : 8;
  return weight;
}

export function createCaseViewCache(capacity = 10_000, textBudget = 4_000_000): CaseViewCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recently listed first.
  const entries = new Map<string, Entry>();
  let weight = 0;

  function shown(entry: Entry, overdue: boolean, department: boolean): CaseView {
    const slot = (department ? 2 : 0) + (overdue ? 1 : 0);
    return (entry.shown[slot] ??= variant(entry.row, overdue, department));
  }

  function keep(id: string, entry: Entry): void {
    const before = entries.get(id);
    if (before) {
      entries.delete(id);
      weight -= before.weight;
    }
    entries.set(id, entry);
    weight += entry.weight;
    while (entries.size > capacity || (weight > textBudget && entries.size > 1)) {
      const [oldest, dropped] = entries.entries().next().value!;
      entries.delete(oldest);
      weight -= dropped.weight;
    }
  }

  return {
    get size() {
      return entries.size;
    },
    get weight() {
      return weight;
    },
    async views(keys, now, department, read) {
      const views = new Array<CaseView>(keys.length);
      const missing: number[] = [];
      keys.forEach((key, i) => {
        const entry = entries.get(key.id);
        if (entry?.revision !== key.revision) {
          missing.push(i);
          return;
        }
        keep(key.id, entry);
        views[i] = shown(entry, overdueOf(key, now), department);
      });
      if (missing.length === 0) return views;
      const rows = new Map((await read(missing.map((i) => keys[i]!.id))).map((row) => [row.id, row]));
      for (const i of missing) {
        const key = keys[i]!;
        const row = rows.get(key.id);
        if (!row || (row.revision ?? 0) !== key.revision) return undefined;
        const entry: Entry = { revision: key.revision, weight: weightOf(row), row: toCaseView(row, now), shown: [] };
        keep(key.id, entry);
        views[i] = shown(entry, overdueOf(key, now), department);
      }
      return views;
    },
  };
}
