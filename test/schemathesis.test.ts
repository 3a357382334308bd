import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ApiStack, startApiStack } from './support/api';

/**
 * schemathesis (from PyPI) generates requests from /openapi.json, valid and invalid, for every
 * operation, as the office: no answer may be a 5xx, and every answer must match its schema.
 */
describe('schemathesis against /openapi.json', () => {
  let api: ApiStack;
  beforeAll(async () => {
    api = await startApiStack({ complaintsPerMinute: 100_000 });
  });
  afterAll(() => api?.close());

  it('finds no server error and no response that breaks the schema', async () => {
    const args = [
      'run',
      `${api.url}/openapi.json`,
      '--header',
      `Authorization: Bearer ${api.tokens.office}`,
      '--checks',
      'all',
      '--phases',
      'examples,coverage,fuzzing,stateful',
      // Examples it finds live for the run only: a test run leaves the work tree as it was.
      '--generation-database',
      ':memory:',
      '--max-examples',
      process.env.DUBAN_SCHEMATHESIS_EXAMPLES ?? '30',
      // One worker: with several, Python 3.11's ast module can fail inside hypothesis
      // ("AST constructor recursion depth mismatch"), an error of the tool, not of the API.
      '--workers',
      '1',
      '--seed',
      process.env.DUBAN_SCHEMATHESIS_SEED ?? '20261125',
      '--suppress-health-check',
      'all',
      '--request-timeout',
      '30',
      '--no-color',
      '--output-truncate',
      'false',
    ];
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      const options = { cwd: api.dir, maxBuffer: 64 * 1024 * 1024, timeout: 900_000, env: { ...process.env, SCHEMATHESIS_HOOKS: '' } };
      execFile(inject('schemathesis'), args, options, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: `${stdout}\n${stderr}` });
      });
    });
    if (process.env.DUBAN_SCHEMATHESIS_OUTPUT) fs.writeFileSync(process.env.DUBAN_SCHEMATHESIS_OUTPUT, result.output);
    if (result.code !== 0) console.log(result.output.slice(-30_000));
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/passed/i);
  });
});
