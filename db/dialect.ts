import {
  type ColumnDefinitionBuilder,
  DataTypeNode,
  type Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  type PluginTransformQueryArgs,
  PostgresAdapter,
  type RawBuilder,
  sql,
} from 'kysely';

/** The two databases the read model runs on. */
export type Dialect = 'sqlite' | 'postgres';

/** A database or a transaction on it, whatever its schema. */
type Connected = Pick<Kysely<unknown>, 'getExecutor'>;

/**
 * Which database `db` (or a transaction on it) talks to. Only db/ asks: migrations for the DDL
 * that differs (full-text search, triggers, identity columns) and a few repository expressions.
 */
export function dialectOf(db: Connected): Dialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** The larger of two values: SQLite's two-argument max(), PostgreSQL's greatest(). */
export function greatest<T>(db: Connected, a: RawBuilder<T>, b: RawBuilder<T>): RawBuilder<T> {
  return dialectOf(db) === 'postgres' ? sql<T>`greatest(${a}, ${b})` : sql<T>`max(${a}, ${b})`;
}

/**
 * An integer key the database numbers (in insertion order): SQLite's INTEGER PRIMARY KEY
 * AUTOINCREMENT, PostgreSQL's identity column.
 */
export function serialKey(db: Connected): (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  return dialectOf(db) === 'postgres'
    ? (c) => c.primaryKey().generatedByDefaultAsIdentity()
    : (c) => c.primaryKey().autoIncrement();
}

/** A 64-bit floating-point column: SQLite's REAL is one; PostgreSQL's real has 32 bits. */
export function doubleType(db: Connected): 'real' | 'double precision' {
  return dialectOf(db) === 'postgres' ? 'double precision' : 'real';
}

/**
 * PostgreSQL: the trigger function behind the tables that refuse some changes (append-only audit
 * trail, immutable published versions); it raises its first argument as the error message, as
 * SQLite's RAISE(ABORT, …) does.
 */
export async function createRefusalFunction<DB>(db: Kysely<DB>): Promise<void> {
  await sql`CREATE OR REPLACE FUNCTION duban_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION USING MESSAGE = TG_ARGV[0], ERRCODE = 'restrict_violation'; END $$`.execute(db);
}

/**
 * PostgreSQL: `table` refuses updates and deletes with `message`; a `when` condition limits the
 * refusal to the rows it matches. An unconditional refusal of deletes refuses TRUNCATE too.
 */
export async function refuseChanges<DB>(
  db: Kysely<DB>,
  table: string,
  refusals: { update?: { message: string; when?: RawBuilder<unknown> }; delete?: { message: string; when?: RawBuilder<unknown> } },
): Promise<void> {
  for (const [event, refusal] of [
    ['UPDATE', refusals.update],
    ['DELETE', refusals.delete],
  ] as const) {
    if (!refusal) continue;
    const name = sql.id(`${table}_no_${event.toLowerCase()}`);
    const when = refusal.when ? sql`WHEN (${refusal.when})` : sql``;
    await sql`CREATE TRIGGER ${name} BEFORE ${sql.raw(event)} ON ${sql.table(table)} FOR EACH ROW ${when}
      EXECUTE FUNCTION duban_refuse(${sql.lit(refusal.message)})`.execute(db);
  }
  // TRUNCATE skips row triggers: refused whole when every delete is.
  const truncate = refusals.delete && !refusals.delete.when ? refusals.delete.message : undefined;
  if (truncate) {
    await sql`CREATE TRIGGER ${sql.id(`${table}_no_truncate`)} BEFORE TRUNCATE ON ${sql.table(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION duban_refuse(${sql.lit(truncate)})`.execute(db);
  }
}

/**
 * PostgreSQL: the schema's `integer` columns as `bigint`, so that they take every integer SQLite's
 * INTEGER takes (and zod's safe integers): a request naming a number past 2^31 is answered, not
 * refused by the database. Applied to the migrations' schema builder (db/migrations/runner.ts).
 */
export const wideIntegers: KyselyPlugin = {
  transformQuery: (args: PluginTransformQueryArgs) => new WidenIntegers().transformNode(args.node),
  transformResult: (args) => Promise.resolve(args.result),
};

class WidenIntegers extends OperationNodeTransformer {
  protected override transformDataType(node: DataTypeNode): DataTypeNode {
    return node.dataType === 'integer' ? DataTypeNode.create('bigint') : node;
  }
}
