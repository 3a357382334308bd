import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Paths of the provisioned Temporal binaries. */
export interface TemporalBinaries {
  /** The Temporal CLI (`temporal server start-dev`). */
  readonly temporalCli: string;
  /** Launcher of the Java time-skipping test server; its first argument is the port. */
  readonly testServer: string;
  /** The schemathesis CLI (`st`), for property-based tests of the HTTP API. */
  readonly schemathesis: string;
  /** A Python with the georeport Open311 client installed, for the Open311 tests. */
  readonly georeportPython: string;
  readonly temporalCliVersion: string;
  readonly testServerVersion: string;
}

/** The directory holding duban's package.json, from source (ts) or build (dist) alike. */
export function projectRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'duban') {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no duban package.json above ${from}`);
    dir = parent;
  }
}

/** Runs scripts/provision.sh (instant when the cache is warm) and returns the binaries' paths. */
export function provisionTemporalBinaries(): TemporalBinaries {
  const script = path.join(projectRoot(), 'scripts', 'provision.sh');
  const out = execFileSync('bash', [script, '--json', '--no-npm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop() ?? '') as TemporalBinaries;
}
