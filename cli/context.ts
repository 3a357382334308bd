import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { Command } from 'commander';
import type { z } from 'zod';
import type { Config } from '../config/config';
import { presentInstants } from '../domain/time';
import type { Actor } from '../domain/case.schema';
import { DomainError } from '../domain/errors';
import { type Db, migrateToLatest, openDatabase } from '../db/database';
import { saveEvidenceFile } from '../db/evidence.repository';
import { type CalendarService, createCalendarService } from '../services/calendar.service';
import { createCalendarSource } from '../services/calendar.source';
import { createCaseService, type CaseService } from '../services/case.service';
import { createIndicatorService } from '../services/indicator.service';
import { type BulletinService, createBulletinService } from '../services/bulletin.service';
import { createEscalationService, type EscalationService } from '../services/escalation.service';
import { createScorecardService, type ScorecardService } from '../services/scorecard.service';
import { DirectoryEvidenceStore, type EvidenceStore, type FileResolver, maxEvidenceBytes } from '../services/evidence.store';
import { createNoticeService, type NoticeService } from '../services/notice.service';
import { noticeWaker } from '../services/notice.wake';
import { loadSecretKey } from '../services/secret-key';
import { configuredTemporalAddress, temporalConnectionOptions } from '../worker/temporal-connection';

/** What commands need, opened on first use: the read model, and Temporal only when asked. */
export class CliContext {
  private database: Db | undefined;
  private connection: Connection | undefined;
  private caseService: CaseService | undefined;

  constructor(readonly config: Readonly<Config>) {}

  async db(): Promise<Db> {
    if (!this.database) {
      this.database = openDatabase(this.config.databaseUrl);
      await migrateToLatest(this.database);
    }
    return this.database;
  }

  /** A Temporal client, connected on first use. */
  async client(): Promise<Client> {
    if (!this.connection) {
      const address = configuredTemporalAddress(this.config);
      try {
        this.connection = await Connection.connect({ ...temporalConnectionOptions(this.config, address), connectTimeout: 5000 });
      } catch (error) {
        throw new Error(
          `无法连接 Temporal / cannot reach Temporal at ${address} (is \`npm start\` running?): ${(error as Error).message}`,
        );
      }
    }
    return new Client({ connection: this.connection, namespace: this.config.temporalNamespace });
  }

  async service(): Promise<CaseService> {
    this.caseService ??= createCaseService({
      client: await this.client(),
      db: await this.db(),
      taskQueue: this.config.taskQueue,
      timeZone: this.config.timeZone,
    });
    return this.caseService;
  }

  /** Notices: deliveries to follow and retry, webhook subscribers. */
  async notices(options: { wake?: boolean } = {}): Promise<NoticeService> {
    const client = options.wake ? await this.client() : undefined;
    return createNoticeService({
      db: await this.db(),
      secretKey: () => loadSecretKey({ configured: this.config.secretKey, dataDir: this.config.dataDir }),
      ...(client ? { wake: noticeWaker(client, this.config.taskQueue) } : {}),
    });
  }

  /** The working calendar and its data (official years, local days, the overrides file). */
  async calendarService(): Promise<CalendarService> {
    return createCalendarService({ db: await this.db(), timeZone: this.config.timeZone, overridesFile: this.config.calendarFile });
  }

  /** Scorecards: indicators per department and period, from the read model's audit trail. */
  async scorecards(): Promise<ScorecardService> {
    const db = await this.db();
    const calendar = createCalendarSource({ db, timeZone: this.config.timeZone, overridesFile: this.config.calendarFile });
    const indicators = createIndicatorService({ db, calendar });
    const bulletins = createBulletinService({ db, zone: this.config.timeZone, indicators });
    return createScorecardService({ db, indicators, rules: bulletins.listRules });
  }

  /** Bulletins and the assessment rules, over the same indicators as the scorecards. */
  async bulletins(): Promise<BulletinService> {
    const db = await this.db();
    const calendar = createCalendarSource({ db, timeZone: this.config.timeZone, overridesFile: this.config.calendarFile });
    return createBulletinService({ db, zone: this.config.timeZone, indicators: createIndicatorService({ db, calendar }) });
  }

  /** Rungs reached and the interviews rung 4 calls for. */
  async escalations(): Promise<EscalationService> {
    return createEscalationService({ db: await this.db(), zone: this.config.timeZone });
  }

  /** Local files named as evidence, stored under the data directory. */
  async files(): Promise<FileResolver> {
    return localFiles(new DirectoryEvidenceStore(this.config.evidenceDir), await this.db());
  }

  async close(): Promise<void> {
    await this.connection?.close();
    await this.database?.destroy();
  }
}

/** What each command group is built with. */
export interface CliEnv {
  readonly program: Command;
  /** The context, created (and the configuration read) on first use. */
  readonly context: () => CliContext;
  /** `--as NAME`, when given. */
  readonly actorName: () => string | undefined;
}

/** Stores a local file named as evidence, and remembers it so that the API can serve it too. */
const localFiles = (store: EvidenceStore, db: Db): FileResolver => async (reference, field) => {
  const file = path.resolve(reference);
  const stat = await fs.promises.stat(file).catch(() => undefined);
  if (!stat?.isFile()) {
    throw new DomainError('invalid_input', `${field}: 找不到文件 ${reference} / no such file`, [
      { path: field, message: `no such file: ${reference}` },
    ]);
  }
  if (stat.size > maxEvidenceBytes) {
    throw new DomainError('invalid_input', `${field}: 文件过大 / file over ${maxEvidenceBytes} bytes`, [
      { path: field, message: 'file too large' },
    ]);
  }
  const stored = await store.put(await fs.promises.readFile(file), path.basename(file), field);
  await saveEvidenceFile(db, stored, `cli:${os.userInfo().username}`, new Date().toISOString());
  return stored;
};

/** JSON from a file, or from standard input when the file is "-" or absent and stdin is piped. */
export function readJsonInput(file: string | undefined): unknown {
  let text: string;
  if (file && file !== '-') {
    if (!fs.existsSync(file)) throw new DomainError('invalid_input', `找不到文件 / no such file: ${file}`);
    text = fs.readFileSync(file, 'utf8');
  } else if (file === '-' || !process.stdin.isTTY) {
    text = fs.readFileSync(0, 'utf8');
  } else {
    throw new DomainError('invalid_input', '请用 --file 或标准输入给出 JSON / give the JSON with --file or on standard input');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new DomainError('invalid_input', `JSON 格式错误 / malformed JSON: ${(error as Error).message}`);
  }
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints `value` with the instants that `schema` declares shown in the office's zone. */
export function printAs(schema: z.core.$ZodType, value: unknown, zone: string): void {
  print(presentInstants(schema, value, zone));
}

/** Commander's collector for a repeatable option. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function officeActor(name: string | undefined): Actor {
  return { role: 'office', name: name ?? `${os.userInfo().username} (督办)` };
}

export function departmentActor(department: string, name: string | undefined): Actor {
  return { role: 'department', department, name: name ?? `${os.userInfo().username} (${department})` };
}

export function requireDept(dept: string | undefined): string {
  if (!dept) {
    throw new DomainError('invalid_input', '请用 --dept 指明办理部门 / give the acting department with --dept', [
      { path: 'dept', message: 'required' },
    ]);
  }
  return dept;
}
