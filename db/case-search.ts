import { type Expression, type SqlBool, sql } from 'kysely';
import type { Executor } from './database';
import { dialectOf } from './dialect';

/** Past this many full-text matches, reading in sort order beats sorting the matches. */
const manyMatches = 2000;

/** How long a phrase's count of matches is taken as still true, and for how many phrases at most. */
const countKeptMs = 30_000;
const countsKept = 1000;
/** Per database: whether a phrase has many matches, and when that was counted. */
type Counted = Map<string, { many: boolean; at: number }>;
const counts = new WeakMap<Executor, Counted>();

/**
 * Whether `phrase` has more than {@link manyMatches} full-text matches. The count (up to the
 * threshold, about 0.7 ms for a common phrase at 100,000 cases) is kept for half a minute: it
 * chooses only the plan, and either plan answers with the same rows, so a count gone stale makes a
 * query slower for a while, never wrong.
 */
async function hasManyMatches(db: Executor, q: string, phrase: string): Promise<boolean> {
  let kept = counts.get(db);
  if (!kept) counts.set(db, (kept = new Map() as Counted));
  const now = performance.now();
  const known = kept.get(q);
  if (known && now - known.at < countKeptMs) return known.many;
  const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ${phrase} LIMIT ${manyMatches + 1})`.execute(db);
  const many = (rows[0]?.n ?? 0) > manyMatches;
  kept.delete(q);
  kept.set(q, { many, at: now });
  if (kept.size > countsKept) kept.delete(kept.keys().next().value!);
  return many;
}

/** Whether no character of `text` has case (CJK, digits, punctuation …), so that folding cannot change a match. */
function caseless(text: string): boolean {
  for (const c of text) if (c.toLowerCase() !== c || c.toUpperCase() !== c) return false;
  return true;
}

/**
 * The condition "the case's title, description or address contains `q`" (taken literally, case
 * ignored), with the plan each database serves best:
 * - SQLite: texts of three characters or more through the FTS5 trigram index, shorter ones by a
 *   LIKE scan;
 * - PostgreSQL: ILIKE on each column, which pg_trgm's GIN indexes serve (from three characters on;
 *   shorter ones are scanned).
 * `q` must be trimmed and free of control characters.
 */
export async function caseTextMatch(db: Executor, q: string): Promise<Expression<SqlBool>> {
  const like = `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  if (dialectOf(db) === 'postgres') {
    return sql<SqlBool>`(cases.title ILIKE ${like} ESCAPE '\\' OR cases.description ILIKE ${like} ESCAPE '\\' OR cases.location_address ILIKE ${like} ESCAPE '\\')`;
  }
  if ([...q].length >= 3) {
    // Trigram full-text index: the text as one quoted phrase. Counting its matches (only up to
    // the threshold: a common phrase is not counted to its end) picks the plan: a few are
    // fetched and sorted; many (a common phrase) are found by reading cases in sort order and
    // keeping those that match, which stops after one page.
    const phrase = `"${q.replaceAll('"', '""')}"`;
    const many = await hasManyMatches(db, q, phrase);
    if (many && caseless(q)) {
      // A trigram phrase matches where a column holds it as a substring (letters folded to one
      // case): for text without letters that have case, that is exactly instr(), tested on each
      // row as it is read, instead of collecting every match from the index first.
      return sql<SqlBool>`(instr(cases.title, ${q}) > 0 OR instr(cases.description, ${q}) > 0 OR instr(cases.location_address, ${q}) > 0)`;
    }
    // The unary `+` keeps SQLite from driving a common phrase's query by the matches' rowids.
    const probe = many ? sql`+cases.rowid` : sql`cases.rowid`;
    return sql<SqlBool>`${probe} IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ${phrase})`;
  }
  // Too short for trigrams: scan with LIKE, the text taken literally.
  return sql<SqlBool>`(cases.title LIKE ${like} ESCAPE '\\' OR cases.description LIKE ${like} ESCAPE '\\' OR cases.location_address LIKE ${like} ESCAPE '\\')`;
}
