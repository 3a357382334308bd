import path from 'node:path';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { isProxyEntry } from '../api/client-address';
import { fieldIssues } from '../domain/validation';
import type { SmtpSettings } from '../services/mail.channel';

const port = z.coerce.number().int().min(1).max(65535);

const hostPort = z.string().regex(/^[^\s:]+:\d+$/, 'host:port, e.g. 127.0.0.1:9464');

const envSchema = z.object({
  DUBAN_DATA_DIR: z.string().min(1).default('./data'),
  // Evidence on a directory all API processes share (NFS, a cluster file system); default: <data>/evidence.
  DUBAN_EVIDENCE_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'host:port, e.g. 127.0.0.1:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  // An external cluster over TLS: a client certificate and key (mTLS), a CA for a private server
  // certificate, or only TEMPORAL_TLS=true (system roots, e.g. Temporal Cloud with an API key).
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CA: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  DUBAN_TASK_QUEUE: z.string().min(1).default('duban'),
  DUBAN_TEMPORAL_PORT: port.default(7233),
  DUBAN_TEMPORAL_UI_PORT: port.default(8233),
  DUBAN_TEMPORAL_SQLITE_SYNC: z.enum(['full', 'normal']).default('full'),
  DUBAN_TIMEZONE: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone, e.g. Asia/Shanghai')
    .default('Asia/Shanghai'),
  DUBAN_API_HOST: z.string().min(1).default('127.0.0.1'),
  DUBAN_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .transform((v) => v.replace(/\/+$/, ''))
    .optional(),
  DUBAN_API_PORT: port.default(8080),
  DUBAN_API_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  DUBAN_COMPLAINTS_PER_MINUTE: z.coerce.number().int().min(1).max(100000).default(10),
  DUBAN_PUBLIC_READS_PER_MINUTE: z.coerce.number().int().min(1).max(1000000).default(120),
  DUBAN_TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((e) => e.trim()).filter((e) => e !== ''))
    .refine((entries) => entries.every(isProxyEntry), 'comma-separated addresses, CIDRs, or loopback / linklocal / uniquelocal'),
  DUBAN_IDEMPOTENCY_RETENTION_HOURS: z.coerce.number().min(1).max(24 * 365).default(24),
  DUBAN_UPLOAD_QUOTA_MB: z.coerce.number().int().min(1).max(1_000_000).default(500),
  DUBAN_EVIDENCE_GRACE_HOURS: z.coerce.number().min(1).max(24 * 365).default(72),
  DUBAN_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100000).default(1000),
  DUBAN_POLICY_FILE: z.string().min(1).optional(),
  DUBAN_CALENDAR_FILE: z.string().min(1).optional(),
  DUBAN_SMTP_HOST: z.string().min(1).optional(),
  DUBAN_SMTP_PORT: port.default(587),
  DUBAN_SMTP_SECURE: z.enum(['true', 'false']).default('false'),
  DUBAN_SMTP_STARTTLS: z.enum(['required', 'opportunistic', 'never']).default('opportunistic'),
  DUBAN_SMTP_USER: z.string().min(1).optional(),
  DUBAN_SMTP_PASSWORD: z.string().optional(),
  DUBAN_MAIL_FROM: z.string().min(3).default('督办 duban <duban@localhost>'),
  DUBAN_SECRET_KEY: z.string().min(32, 'at least 32 characters').optional(),
  // 定期通报: when the schedule drafts a bulletin (cron, in DUBAN_BULLETIN_ZONE; "off" for none) and which period it covers.
  DUBAN_BULLETIN_CRON: z
    .string()
    .refine((v) => v === 'off' || v.trim().split(/\s+/).length === 5, '5-field cron (minute hour day month weekday), or off')
    .default('0 9 * * 1'),
  DUBAN_BULLETIN_ZONE: z
    .string()
    .refine((zone) => IANAZone.isValidZone(zone), 'an IANA time zone, e.g. Asia/Shanghai')
    .optional(),
  DUBAN_BULLETIN_PERIOD: z.enum(['week', 'month']).default('week'),
  DUBAN_OFFICE_NAME: z.string().min(1).max(100).default('督查督办办公室'),
  // Operations: duban's own Prometheus endpoint (and /readyz of a worker process), and the
  // Temporal SDK's worker metrics; host:port each, unset for none.
  DUBAN_METRICS_ADDRESS: hostPort.optional(),
  DUBAN_TEMPORAL_METRICS_ADDRESS: hostPort.optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

/** Everything duban reads from the environment, validated once. */
export interface Config {
  /** Where the SQLite files and stored evidence live. */
  readonly dataDir: string;
  /** The read model: a SQLite file's absolute path, or a `postgres://` URL (db/database.ts openDatabase). */
  readonly databaseUrl: string;
  /** Stored evidence files (content-addressed); shared by every API process. */
  readonly evidenceDir: string;
  /** An existing Temporal frontend; when unset, `npm start` runs a local dev server. */
  readonly temporalAddress: string | undefined;
  readonly temporalNamespace: string;
  /** TLS towards an external cluster (file paths; read when connecting), or undefined for plain gRPC. */
  readonly temporalTls: TemporalTlsFiles | undefined;
  /** An API key sent as the bearer token of every Temporal call (Temporal Cloud, or a cluster's authorizer). */
  readonly temporalApiKey: string | undefined;
  readonly taskQueue: string;
  /** Ports of the local dev server (gRPC and web UI), when duban runs it. */
  readonly devServerPort: number;
  readonly devServerUiPort: number;
  /** The embedded server's SQLite synchronous level (WAL): full survives power loss, normal a crash. */
  readonly devServerSqliteSync: 'full' | 'normal';
  /** The office's time zone: deadlines and displayed times follow it. */
  readonly timeZone: string;
  /** Where the HTTP API listens. */
  readonly apiHost: string;
  readonly apiPort: number;
  /**
   * How many processes serve the API: 1 (the default) serves it in the worker's process; more
   * fork that many API processes (node:cluster, sharing the port), the worker and the background
   * jobs staying in the first process. Reads scale across cores (SQLite WAL serves them all).
   */
  readonly apiProcesses: number;
  /** Where the public reaches the API (behind a proxy), for the links it gives out; unset: the request's own address. */
  readonly publicUrl: string | undefined;
  /** Complaints one client address may file per minute. */
  readonly complaintsPerMinute: number;
  /** Public reads (tracking, Open311) one client address may make per minute. */
  readonly publicReadsPerMinute: number;
  /** Reverse proxies whose X-Forwarded-For is believed. */
  readonly trustedProxies: readonly string[];
  /** How long Idempotency-Keys and their responses are kept, in hours. */
  readonly idempotencyRetentionHours: number;
  /** MiB one token may upload per rolling 24 hours. */
  readonly uploadQuotaMb: number;
  /** Hours an upload that no case refers to is kept. */
  readonly evidenceGraceHours: number;
  /**
   * Workflows a worker keeps in memory between their tasks (about 0.3 MB each: docs/benchmarks.md,
   * "Memory per cached workflow"). Most tasks sleep for days between timers; one evicted is
   * replayed from its short history when it wakes. The default keeps a worker under 1 GiB whatever
   * the number of open tasks, churn through the cache included.
   */
  readonly maxCachedWorkflows: number;
  /** Deadline and escalation policy (JSON); read again when it changes. */
  readonly policyFile: string;
  /** Local calendar overrides (JSON), on top of the official holiday arrangements. */
  readonly calendarFile: string;
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** The SMTP server notices go through; unset: mail waits (and the log says how to set it). */
  readonly smtp: SmtpSettings | undefined;
  /** The bulletin schedule (null: none) and the period each draft covers. */
  readonly bulletinSchedule: { readonly cron: string; readonly zone: string } | null;
  readonly bulletinPeriod: 'week' | 'month';
  /** The office's name, at the top of its public pages. */
  readonly officeName: string;
  /** Where duban's own Prometheus metrics (and a worker process's /readyz) are served; undefined: nowhere. */
  readonly metricsAddress: string | undefined;
  /** Where the Temporal SDK exports the worker's Prometheus metrics; undefined: not exported. */
  readonly temporalMetricsAddress: string | undefined;
  /** Signs webhooks (per subscriber, derived); from DUBAN_SECRET_KEY, else a key file in the data directory. */
  readonly secretKey: string | undefined;
}

/** TLS for the Temporal connection, as files (PEM). */
export interface TemporalTlsFiles {
  /** Client certificate and key for mutual TLS; both or neither. */
  readonly certFile: string | undefined;
  readonly keyFile: string | undefined;
  /** CA that signed the server's certificate; unset: the system's roots. */
  readonly caFile: string | undefined;
  /** The name the server's certificate carries, when it differs from the address's host. */
  readonly serverName: string | undefined;
}

/** The configuration from `env`; throws one error that names every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Readonly<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = fieldIssues(parsed.error).map((i) => `  ${i.path}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    throw new Error('invalid configuration:\n  TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: give both (the client certificate and its key) or neither');
  }
  const tlsWanted =
    e.TEMPORAL_TLS === 'true' || (e.TEMPORAL_TLS !== 'false' && (e.TEMPORAL_TLS_CERT ?? e.TEMPORAL_TLS_CA ?? e.TEMPORAL_TLS_SERVER_NAME) !== undefined);
  if (tlsWanted && e.TEMPORAL_ADDRESS === undefined) {
    throw new Error('invalid configuration:\n  TEMPORAL_ADDRESS: TLS options are for an external cluster; set its address (host:port)');
  }
  const dataDir = path.resolve(e.DUBAN_DATA_DIR);
  const databaseUrl = !e.DATABASE_URL
    ? path.join(dataDir, 'duban.sqlite')
    : /^postgres(ql)?:\/\//.test(e.DATABASE_URL)
      ? e.DATABASE_URL
      : path.resolve(e.DATABASE_URL.replace(/^(sqlite|file):(\/\/)?/, ''));
  return Object.freeze({
    dataDir,
    databaseUrl,
    evidenceDir: path.resolve(e.DUBAN_EVIDENCE_DIR ?? path.join(dataDir, 'evidence')),
    temporalAddress: e.TEMPORAL_ADDRESS,
    temporalNamespace: e.TEMPORAL_NAMESPACE,
    temporalTls: tlsWanted
      ? Object.freeze({
          certFile: e.TEMPORAL_TLS_CERT && path.resolve(e.TEMPORAL_TLS_CERT),
          keyFile: e.TEMPORAL_TLS_KEY && path.resolve(e.TEMPORAL_TLS_KEY),
          caFile: e.TEMPORAL_TLS_CA && path.resolve(e.TEMPORAL_TLS_CA),
          serverName: e.TEMPORAL_TLS_SERVER_NAME,
        })
      : undefined,
    temporalApiKey: e.TEMPORAL_API_KEY,
    taskQueue: e.DUBAN_TASK_QUEUE,
    devServerPort: e.DUBAN_TEMPORAL_PORT,
    devServerUiPort: e.DUBAN_TEMPORAL_UI_PORT,
    devServerSqliteSync: e.DUBAN_TEMPORAL_SQLITE_SYNC,
    timeZone: e.DUBAN_TIMEZONE,
    apiHost: e.DUBAN_API_HOST,
    apiPort: e.DUBAN_API_PORT,
    apiProcesses: e.DUBAN_API_PROCESSES,
    publicUrl: e.DUBAN_PUBLIC_URL,
    complaintsPerMinute: e.DUBAN_COMPLAINTS_PER_MINUTE,
    publicReadsPerMinute: e.DUBAN_PUBLIC_READS_PER_MINUTE,
    trustedProxies: Object.freeze(e.DUBAN_TRUSTED_PROXIES),
    idempotencyRetentionHours: e.DUBAN_IDEMPOTENCY_RETENTION_HOURS,
    uploadQuotaMb: e.DUBAN_UPLOAD_QUOTA_MB,
    evidenceGraceHours: e.DUBAN_EVIDENCE_GRACE_HOURS,
    maxCachedWorkflows: e.DUBAN_MAX_CACHED_WORKFLOWS,
    policyFile: path.resolve(e.DUBAN_POLICY_FILE ?? path.join(dataDir, 'policy.json')),
    calendarFile: path.resolve(e.DUBAN_CALENDAR_FILE ?? path.join(dataDir, 'calendar.json')),
    logLevel: e.LOG_LEVEL,
    smtp: e.DUBAN_SMTP_HOST
      ? {
          host: e.DUBAN_SMTP_HOST,
          port: e.DUBAN_SMTP_PORT,
          secure: e.DUBAN_SMTP_SECURE === 'true',
          startTls: e.DUBAN_SMTP_STARTTLS,
          user: e.DUBAN_SMTP_USER,
          password: e.DUBAN_SMTP_PASSWORD,
          from: e.DUBAN_MAIL_FROM,
        }
      : undefined,
    secretKey: e.DUBAN_SECRET_KEY,
    metricsAddress: e.DUBAN_METRICS_ADDRESS,
    temporalMetricsAddress: e.DUBAN_TEMPORAL_METRICS_ADDRESS,
    bulletinSchedule:
      e.DUBAN_BULLETIN_CRON === 'off' ? null : { cron: e.DUBAN_BULLETIN_CRON.trim(), zone: e.DUBAN_BULLETIN_ZONE ?? e.DUBAN_TIMEZONE },
    bulletinPeriod: e.DUBAN_BULLETIN_PERIOD,
    officeName: e.DUBAN_OFFICE_NAME,
  });
}
