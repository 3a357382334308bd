import fs from 'node:fs';
import path from 'node:path';
import { type BundleOptions, bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from './binaries';

/** Where `npm run build` leaves the prebuilt workflow bundle that the worker loads at start. */
export function workflowBundlePath(): string {
  return path.join(projectRoot(), 'dist', 'workflow-bundle.js');
}

/**
 * The module that loads what every workflow of a reusable V8 context shares (workflows/preload.ts):
 * its TypeScript source when this runs from source (the tests), tsc's output when from dist.
 */
export function preloadModulePath(): string {
  return path.join(__dirname, '..', 'workflows', 'preload');
}

/**
 * The bundler options every bundle of duban's workflows is built with (prebuilt, for the tests,
 * or at the worker's start). `preload: false` is for the memory bench's comparison only.
 */
export function workflowBundlerOptions(preload = true): Pick<BundleOptions, 'preloadModules' | 'webpackConfigHook'> {
  return {
    // Evaluated once per reusable V8 context, not once per workflow: every cached workflow used to
    // hold its own copy of zod and of the domain's schemas (docs/architecture.md, "Memory").
    preloadModules: preload ? [preloadModulePath()] : [],
    // One zod, the CommonJS build, whether the workflows are bundled from the TypeScript sources
    // (ES imports: the tests) or from tsc's output (require: `npm run build`), so that the tests run
    // the zod duban runs. That build seals its modules' exports, which stops the SDK's freeze of the
    // preloaded modules there; its ES build does not, and the freeze would reach objects zod writes
    // on every parse (a pattern's lastIndex).
    webpackConfigHook: (config) => ({
      ...config,
      resolve: { ...config.resolve, alias: { ...config.resolve?.alias, zod$: require.resolve('zod') } },
    }),
  };
}

/**
 * Bundles the workflow code once, so that starting a worker does not run webpack.
 * `preload: false` is for the memory bench's comparison only.
 */
export async function writeWorkflowBundle(workflowsPath: string, outFile: string, preload = true): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger, ...workflowBundlerOptions(preload) });
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
