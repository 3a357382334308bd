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

function hashTree(dirs: string[]): string {
  const hash = crypto.createHash('sha256');
  for (const dir of dirs) {
    for (const file of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
      const full = path.join(dir, file);
      if (fs.statSync(full).isFile()) hash.update(file).update(fs.readFileSync(full));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** Provisions the Temporal binaries and bundles the workflow code once for every test file. */
export default async function setup(project: TestProject): Promise<void> {
  const binaries = provisionTemporalBinaries();
  const root = projectRoot();
  const bundle = path.join(
    os.tmpdir(),
    `duban-workflows-${hashTree(['workflows', 'domain', 'activities', 'db'].map((d) => path.join(root, d)))}.js`,
  );
  if (!fs.existsSync(bundle)) await writeWorkflowBundle(path.join(root, 'workflows', 'index.ts'), bundle);
  project.provide('temporalCli', binaries.temporalCli);
  project.provide('testServer', binaries.testServer);
  project.provide('schemathesis', binaries.schemathesis);
  project.provide('georeportPython', binaries.georeportPython);
  project.provide('workflowBundle', bundle);
}
