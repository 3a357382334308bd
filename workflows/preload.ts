/**
 * What the worker evaluates once per reusable V8 context instead of once per workflow
 * (scripts/bundle-workflows.ts lists this module in `bundlerOptions.preloadModules`): zod and the
 * domain modules the workflows import, whose schemas were most of a cached workflow's memory.
 * Only modules without per-workflow state may be shared; why these qualify is in
 * docs/architecture.md ("Memory"), and test/preload.test.ts checks it in a real context.
 *
 * Every workflow's own modules (these workflows, @temporalio/workflow) stay per workflow.
 */
import { z } from 'zod';
import * as caseId from '../domain/case-id';
import * as caseMachine from '../domain/case.machine';
import * as caseSchema from '../domain/case.schema';
import * as command from '../domain/command';
import * as errors from '../domain/errors';
import * as followUp from '../domain/follow-up';
import * as personId from '../domain/person-id';
import * as policy from '../domain/policy';
import * as taskMachine from '../domain/task.machine';
import * as text from '../domain/text';
import * as validation from '../domain/validation';

/** The domain modules shared by the workflows of a context: each one the workflows import. */
const sharedDomainModules: readonly object[] = [
  caseId,
  caseMachine,
  caseSchema,
  command,
  errors,
  followUp,
  personId,
  policy,
  taskMachine,
  text,
  validation,
];

// zod keeps its settings on a global (`__zod_globalConfig`) that it fills when the first schema
// is built (the default locale's messages, the memoizer of container schemas). After this module
// the SDK freezes the context's globals: the domain modules above built schemas already, and
// this line says so should they ever stop, so that no workflow has to write the settings later.
z.object({ warmUp: z.string() }).safeParse({ warmUp: '' });

// After this module the SDK also deep-freezes the preloaded modules' exports, so that no workflow
// can change what the others see. zod's schemas cannot be frozen: zod caches on them what it
// derives lazily (a bound method, a schema's pattern) on first use. So each domain module's plain
// data (arrays, policy defaults, functions) is frozen here, its schemas are left to zod, and the
// module's exports are frozen last, which ends the SDK's walk there. zod's own modules seal their
// exports themselves (the CommonJS build, which every bundle resolves: scripts/bundle-workflows.ts).
for (const moduleExports of sharedDomainModules) {
  for (const key of Reflect.ownKeys(moduleExports)) freezeExceptSchemas((moduleExports as Record<PropertyKey, unknown>)[key]);
  Object.freeze(moduleExports);
}

/** Freezes `value` and what it holds, as the SDK would, except zod schemas, wherever they sit. */
function freezeExceptSchemas(value: unknown, seen = new WeakSet<object>()): void {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value)) return;
  seen.add(value);
  if (value instanceof z.ZodType) return;
  if (typeof value === 'object') {
    for (const key of Reflect.ownKeys(value)) freezeExceptSchemas((value as Record<PropertyKey, unknown>)[key], seen);
  }
  Object.freeze(value);
}
