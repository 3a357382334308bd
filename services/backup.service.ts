import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { checkSqlite, snapshotSqlite } from '../db/sqlite-backup';
import { DomainError } from '../domain/errors';

/** Where an embedded installation keeps what a backup holds. */
export interface DataLocations {
  readonly dataDir: string;
  /** The SQLite read model. */
  readonly databaseFile: string;
  /** The embedded Temporal server's SQLite file. */
  readonly temporalFile: string;
  /** Stored evidence (content-addressed files). */
  readonly evidenceDir: string;
  /** Small files kept beside the databases, by role: the secret key, the policy and calendar overrides. */
  readonly files: Readonly<Record<string, string>>;
}

/** What a backup directory holds, written last as manifest.json. */
export interface BackupManifest {
  readonly format: 1;
  readonly createdAt: string;
  readonly host: string;
  /** Taken by the running process with its worker paused (true), or with nothing running (false). */
  readonly online: boolean;
  readonly readModel: { readonly file: 'duban.sqlite'; readonly pages: number; readonly cases: number; readonly openCases: number; readonly events: number };
  readonly temporal: { readonly file: 'temporal.sqlite'; readonly pages: number };
  readonly evidence: { readonly dir: 'evidence'; readonly files: number; readonly bytes: number };
  /** Roles of the small files under files/. */
  readonly files: readonly string[];
}

/** Runs `fn` while no workflow task of this installation runs (see docs/architecture.md, "Backup"). */
export type Quiesce = <T>(fn: () => Promise<T>) => Promise<T>;

const manifestName = 'manifest.json';

function readModelCounts(file: string): Pick<BackupManifest['readModel'], 'cases' | 'openCases' | 'events'> {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    const one = (query: string) => (db.prepare(query).get() as { n: number }).n;
    return {
      cases: one('SELECT count(*) AS n FROM cases'),
      openCases: one("SELECT count(*) AS n FROM cases WHERE status NOT IN ('closed', 'withdrawn')"),
      events: one('SELECT count(*) AS n FROM events'),
    };
  } finally {
    db.close();
  }
}

async function copyEvidence(from: string, to: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  await fs.promises.mkdir(to, { recursive: true });
  if (!fs.existsSync(from)) return { files, bytes };
  for (const shard of await fs.promises.readdir(from, { withFileTypes: true })) {
    // .incoming holds uploads not yet stored (no record can name them).
    if (!shard.isDirectory() || shard.name.startsWith('.')) continue;
    await fs.promises.mkdir(path.join(to, shard.name), { recursive: true });
    for (const entry of await fs.promises.readdir(path.join(from, shard.name), { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const source = path.join(from, shard.name, entry.name);
      // Stored files never change (the name is the hash of the bytes); a reflink where the file system has them.
      await fs.promises.copyFile(source, path.join(to, shard.name, entry.name), fs.constants.COPYFILE_FICLONE);
      files += 1;
      bytes += (await fs.promises.stat(source)).size;
    }
  }
  return { files, bytes };
}

/**
 * Writes a backup of `locations` to the new directory `target`: the read model, then the Temporal
 * file, then the evidence, all while `quiesce` holds the worker still (nothing to hold when no
 * process runs). The directory appears under its name only when complete.
 */
export async function backupData(locations: DataLocations, target: string, options: { quiesce?: Quiesce; now?: () => Date } = {}): Promise<BackupManifest> {
  const destination = path.resolve(target);
  if (fs.existsSync(destination) && fs.readdirSync(destination).length > 0) {
    throw new DomainError('invalid_input', `to: 备份目录不为空 / the backup directory is not empty: ${destination}`, [{ path: 'to', message: 'not empty' }]);
  }
  const partial = `${destination}.partial-${process.pid}`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(partial, { recursive: true });
  try {
    const quiesce: Quiesce = options.quiesce ?? ((fn) => fn());
    // The order matters (docs/architecture.md): with no workflow task running, the read model
    // first, so that what it holds was caused by what Temporal's copy holds; then Temporal; then
    // the evidence, a superset of the files the read model's copy names.
    const taken = await quiesce(async () => {
      const readModel = await snapshotSqlite(locations.databaseFile, path.join(partial, 'duban.sqlite'));
      const temporal = await snapshotSqlite(locations.temporalFile, path.join(partial, 'temporal.sqlite'));
      return { readModel, temporal, at: (options.now?.() ?? new Date()).toISOString() };
    });
    const evidence = await copyEvidence(locations.evidenceDir, path.join(partial, 'evidence'));
    const files: string[] = [];
    for (const [role, file] of Object.entries(locations.files)) {
      if (!fs.existsSync(file)) continue;
      fs.mkdirSync(path.join(partial, 'files'), { recursive: true });
      fs.copyFileSync(file, path.join(partial, 'files', role));
      files.push(role);
    }
    const manifest: BackupManifest = {
      format: 1,
      createdAt: taken.at,
      host: os.hostname(),
      online: options.quiesce !== undefined,
      readModel: { file: 'duban.sqlite', pages: taken.readModel.pages, ...readModelCounts(path.join(partial, 'duban.sqlite')) },
      temporal: { file: 'temporal.sqlite', pages: taken.temporal.pages },
      evidence: { dir: 'evidence', ...evidence },
      files,
    };
    fs.writeFileSync(path.join(partial, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
    if (fs.existsSync(destination)) fs.rmdirSync(destination);
    fs.renameSync(partial, destination);
    return manifest;
  } catch (error) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw error;
  }
}

/** The manifest of the backup in `source`; throws when it is not one (or not a complete one). */
export function readManifest(source: string): BackupManifest {
  const file = path.join(source, manifestName);
  if (!fs.existsSync(file)) {
    throw new DomainError('invalid_input', `from: 不是完整的备份 / not a complete backup (no ${manifestName}): ${source}`, [{ path: 'from', message: 'not a backup' }]);
  }
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  if (manifest.format !== 1) throw new Error(`unknown backup format ${String(manifest.format)} in ${file}`);
  return manifest;
}

/**
 * Restores the backup in `source` into `locations`, which must hold no installation yet (no
 * read model, no Temporal file, no evidence): both databases are checked before anything is copied.
 */
export async function restoreData(source: string, locations: DataLocations): Promise<BackupManifest> {
  const from = path.resolve(source);
  const manifest = readManifest(from);
  for (const file of [manifest.readModel.file, manifest.temporal.file]) {
    const verdict = checkSqlite(path.join(from, file));
    if (verdict !== 'ok') throw new Error(`备份已损坏 / the backup's ${file} is damaged: ${verdict}`);
  }
  const occupied = [locations.databaseFile, locations.temporalFile].filter((f) => fs.existsSync(f));
  if (fs.existsSync(locations.evidenceDir) && fs.readdirSync(locations.evidenceDir).some((e) => !e.startsWith('.'))) occupied.push(locations.evidenceDir);
  if (occupied.length > 0) {
    throw new DomainError('invalid_state', `目标已有数据，请恢复到新的数据目录 / the target already holds an installation; restore into a fresh data directory: ${occupied.join(', ')}`);
  }
  const place = async (from: string, to: string) => {
    await fs.promises.mkdir(path.dirname(to), { recursive: true });
    await fs.promises.copyFile(from, to, fs.constants.COPYFILE_FICLONE);
  };
  await place(path.join(from, manifest.readModel.file), locations.databaseFile);
  await place(path.join(from, manifest.temporal.file), locations.temporalFile);
  await fs.promises.cp(path.join(from, manifest.evidence.dir), locations.evidenceDir, { recursive: true });
  for (const role of manifest.files) {
    const to = locations.files[role];
    // A file this installation keeps elsewhere (or not at all) is left to the operator.
    if (to !== undefined && !fs.existsSync(to)) await place(path.join(from, 'files', role), to);
  }
  return manifest;
}
