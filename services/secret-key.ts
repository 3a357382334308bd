import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The installation's secret key: DUBAN_SECRET_KEY when set, else a key file in the data directory
 * made on first use (readable by the owner only). Secrets derived from it (webhook signing keys)
 * are never stored; losing the key changes them all.
 */
export function loadSecretKey(options: { configured: string | undefined; dataDir: string }): string {
  if (options.configured) return options.configured;
  const file = path.join(options.dataDir, 'secret.key');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fs.mkdirSync(options.dataDir, { recursive: true });
  const key = crypto.randomBytes(32).toString('base64url');
  const tmp = `${file}.${process.pid}.${crypto.randomUUID()}`;
  fs.writeFileSync(tmp, `${key}\n`, { mode: 0o600 });
  try {
    // A hard link appears whole or not at all: of two processes making it at once, one wins
    // and the other reads the winner's key.
    fs.linkSync(tmp, file);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return fs.readFileSync(file, 'utf8').trim();
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The signing secret of a webhook subscriber, derived from the installation's key. */
export function webhookSecret(key: string, subscriberId: string): string {
  return crypto.createHmac('sha256', key).update(`webhook:${subscriberId}`).digest('base64url');
}
