import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from './binaries';

/** Where `npm run build` leaves the prebuilt workflow bundle that the worker loads at start. */
export function workflowBundlePath(): string {
  return path.join(projectRoot(), 'dist', 'workflow-bundle.js');
}

/** Bundles the workflow code once, so that starting a worker does not run webpack. */
export async function writeWorkflowBundle(workflowsPath: string, outFile: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(`${outFile}.tmp`, code);
  fs.renameSync(`${outFile}.tmp`, outFile);
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };

if (require.main === module) {
  writeWorkflowBundle(require.resolve('../workflows'), workflowBundlePath()).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
