import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { provisionTemporalBinaries, projectRoot } from '../../scripts/binaries';
import { writeWorkflowBundle } from '../../scripts/bundle-workflows';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalCli: string;
    testServer: string;
    schemathesis: string;
    georeportPython: string;
    workflowBundle: string;
  }
}

/** A short hash of the contents of `paths`: files, and every file under directories. */
function hashTree(paths: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const entry of paths) {
    const files = fs.statSync(entry).isDirectory()
      ? fs.readdirSync(entry, { recursive: true, encoding: 'utf8' }).sort().map((file) => path.join(entry, file))
      : [entry];
    for (const full of files) {
      if (fs.statSync(full).isFile()) hash.update(path.relative(entry, full) || path.basename(full)).update(fs.readFileSync(full));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** Provisions the Temporal binaries and bundles the workflow code once for every test file. */
export default async function setup(project: TestProject): Promise<void> {
  const binaries = provisionTemporalBinaries();
  const root = projectRoot();
  // The bundle holds the workflow code and the dependencies it imports (the SDK, zod), built with
  // the options of scripts/bundle-workflows.ts (the preloaded modules), so a change to any of
  // them, the lockfile included, builds it again.
  const sources = ['workflows', 'domain', 'activities', 'db', 'scripts/bundle-workflows.ts', 'package-lock.json'].map((d) => path.join(root, d));
  const bundle = path.join(os.tmpdir(), `duban-workflows-${hashTree(sources)}.js`);
  if (!fs.existsSync(bundle)) await writeWorkflowBundle(path.join(root, 'workflows', 'index.ts'), bundle);
  project.provide('temporalCli', binaries.temporalCli);
  project.provide('testServer', binaries.testServer);
  project.provide('schemathesis', binaries.schemathesis);
  project.provide('georeportPython', binaries.georeportPython);
  project.provide('workflowBundle', bundle);
}
