import crypto from 'node:crypto';
import fs from 'node:fs';
import { DomainError } from '../domain/errors';

/** Where a watched file reports what it loaded and what is wrong with it (pino's logger fits). */
export interface FileLogger {
  info(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

/** A JSON file that an office edits while the system runs (the policy, calendar overrides). */
export interface WatchedJsonFile<T> {
  /** The value in force: the file's last valid version; the fallback when there is none or no file. */
  (): T;
  /** What is wrong with the file as it stands now, naming the file and the fields at fault. */
  problem(): DomainError | undefined;
}

/**
 * Reads `file` again whenever its content changed. Changes are noticed by a hash of the content
 * rather than the modification time, whose granularity (a second on some file systems) hides two
 * edits in a row, even of equal size; the files are small, reading them is cheap.
 *
 * A malformed or invalid version is reported once (logged, and by `problem()`) and the last valid
 * version stays in force, so a slip while editing never stops deadlines from being computed.
 */
export function watchedJsonFile<T>(options: {
  file: string | undefined;
  /** The file as messages name it: "policy file data/policy.json". */
  what: string;
  /** Validates the parsed JSON; throws a DomainError naming the fields at fault. */
  parse: (json: unknown) => T;
  fallback: T;
  logger?: FileLogger | undefined;
}): WatchedJsonFile<T> {
  const { file, what, parse, fallback, logger } = options;
  let seen: string | undefined;
  let good: T | undefined;
  let problem: DomainError | undefined;

  const refresh = (): void => {
    let content: Buffer | undefined;
    try {
      content = file ? fs.readFileSync(file) : undefined;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        const message = (error as Error).message;
        report(`unreadable: ${message}`, new DomainError('invalid_input', `${what}: 无法读取 / cannot read: ${message}`));
        return;
      }
    }
    if (content === undefined) {
      // No file: the defaults, as documented; a file that comes back is read afresh.
      seen = undefined;
      good = undefined;
      problem = undefined;
      return;
    }
    const hash = crypto.createHash('sha256').update(content).digest('hex');
    if (hash === seen) return;
    let json: unknown;
    try {
      json = JSON.parse(content.toString('utf8'));
    } catch (error) {
      report(hash, new DomainError('invalid_input', `${what}: JSON 格式错误 / malformed JSON: ${(error as Error).message}`, [
        { path: '', message: (error as Error).message },
      ]));
      return;
    }
    try {
      good = parse(json);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      report(hash, error);
      return;
    }
    seen = hash;
    problem = undefined;
    logger?.info({ file, sha256: hash }, `${what} loaded`);
  };

  /** Logs a problem once per version of the file (`key`); the last good version stays. */
  const report = (key: string, error: DomainError): void => {
    problem = error;
    if (seen === key) return;
    seen = key;
    logger?.error(
      { file, issues: error.details, inForce: good === undefined ? 'defaults' : 'the last valid version' },
      `${error.message} (${good === undefined ? 'the defaults stay in force' : 'the last valid version stays in force'})`,
    );
  };

  const current = (): T => {
    refresh();
    return good ?? fallback;
  };
  return Object.assign(current, { problem: () => problem });
}
