import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import SQLite from 'better-sqlite3';
import pino from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startDevServer } from '../worker/dev-server';
import { freePort } from './support/processes';

/** The journal mode a SQLite file is in, from its header: bytes 18 and 19 are 2 in WAL mode, 1 otherwise. */
const journalOf = (file: string): 'wal' | 'rollback' => {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  return header[18] === 2 && header[19] === 2 ? 'wal' : 'rollback';
};

/**
 * The embedded Temporal server keeps its state in write-ahead-log mode, and a file it made
 * before (in the rollback journal mode) is converted when opened, keeping what it held.
 */
describe('the embedded Temporal server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-dev-server-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const start = async () =>
    startDevServer({ cli: inject('temporalCli'), dataDir: dir, port: await freePort(), uiPort: await freePort(), namespace: 'default', logger: pino({ level: 'silent' }) });

  it('writes its file in WAL mode, and converts a file in the old mode keeping what it held', async () => {
    const file = path.join(dir, 'temporal.sqlite');
    let server = await start();
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    // Something the server must keep: a workflow started (no worker needs to run it).
    await client.workflow.start('nothingWorkflow', { taskQueue: 'kept', workflowId: 'kept-across-restarts' });
    await connection.close();
    await server.stop();
    expect(journalOf(file)).toBe('wal');
    // As a file of a version before this one was: in the rollback journal mode.
    const sqlite = new SQLite(file);
    sqlite.pragma('journal_mode = DELETE');
    sqlite.close();
    expect(journalOf(file)).toBe('rollback');

    server = await start();
    const again = await Connection.connect({ address: server.address });
    try {
      expect(journalOf(file)).toBe('wal');
      const described = await new Client({ connection: again }).workflow.getHandle('kept-across-restarts').describe();
      expect(described.status.name).toBe('RUNNING');
    } finally {
      await again.close();
      await server.stop();
    }
  });
});
