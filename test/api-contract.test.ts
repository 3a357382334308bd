import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiStack, startApiStack } from './support/api';

type Operation = { operationId?: string; security?: unknown[]; responses: Record<string, { $ref?: string; content?: Record<string, unknown> }> };

/** The API answers what its OpenAPI document says, and nothing else. */
describe('the API keeps to its OpenAPI document', () => {
  let api: ApiStack;
  let doc: { paths: Record<string, Record<string, Operation>> };
  beforeAll(async () => {
    api = await startApiStack();
    doc = (await api.call('GET', '/openapi.json')).body;
  });
  afterAll(() => api?.close());

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));

  it('names every operation once and documents its errors', () => {
    const ids = operations().map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of operations()) {
      const statuses = Object.keys(op.responses);
      // A broken token is refused everywhere; anything can fail on our side.
      expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['401', '500']));
      if (op.security) expect(statuses, `${method} ${path}`).toContain('401');
      if (path.includes('{')) expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '404']));
      if (method === 'post' && !path.startsWith('/open311/') && path !== '/api/v1/complaints' && path !== '/api/v1/evidence') {
        expect(statuses, `${method} ${path} takes an Idempotency-Key`).toContain('409');
      }
    }
    // Successes say what they are; a 201 says where the new thing is.
    for (const { path, method, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses).filter(([code]) => code.startsWith('2'))) {
        expect((response as { description?: string }).description, `${method} ${path} ${status}`).not.toBe('Default Response');
      }
    }
    for (const created of ['/api/v1/cases', '/api/v1/departments', '/api/v1/complaints']) {
      expect(doc.paths[created]!.post!.responses['201'], created).toHaveProperty('headers.Location');
    }
    // The two media types that are not JSON are said so.
    expect(Object.keys(doc.paths['/api/v1/cases/export.csv']!.get!.responses['200']!.content!)).toEqual(['text/csv']);
    expect(Object.keys(doc.paths['/api/v1/evidence/{sha256}']!.get!.responses['200']!.content!)).toEqual(expect.arrayContaining(['image/jpeg', 'application/pdf']));
  });

  it('refuses a missing token before it reads the request', async () => {
    // Not JSON, malformed JSON, too large, schema-invalid: to a caller without a token it is all 401.
    for (const [body, type] of [
      ['title=x', 'text/plain'],
      ['{"title": ', 'application/json'],
      [JSON.stringify({ title: 'x'.repeat(2_000_000) }), 'application/json'],
      [JSON.stringify({ nonsense: true }), 'application/json'],
    ] as const) {
      const response = await api.call('POST', '/api/v1/cases', { body, headers: { 'content-type': type } });
      expect(response.status, type).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    // A department on an office command is a 403, also before its body is read.
    const wrongRole = await api.call('POST', '/api/v1/cases/DB-2026-000001/withdraw', { token: api.tokens.CG, body: '{', headers: { 'content-type': 'application/json' } });
    expect(wrongRole.status).toBe(403);
  });

  it('answers a method a path does not have with 405 and Allow, in each family’s format', async () => {
    const put = await api.call('PUT', '/api/v1/cases', { token: api.tokens.office, body: {} });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(put.body.error.code).toBe('method_not_allowed');
    const del = await api.call('DELETE', '/api/v1/cases/DB-2026-000001');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
    // A method with a body but no content type is still a 405, not a complaint about the body.
    const query = await fetch(`${api.url}/healthz`, { method: 'QUERY' });
    expect(query.status).toBe(405);
    const open311 = await api.call('DELETE', '/open311/v2/requests.xml');
    expect(open311.status).toBe(405);
    expect(open311.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(open311.text).toContain('<errors><error><code>405</code>');
    expect((await api.call('GET', '/api/v1/nothing-here')).status).toBe(404);
  });

  it('refuses malformed path parameters with 400, however long, in the API’s own shape', async () => {
    const long = await api.call('GET', `/api/v1/cases/${'x'.repeat(1500)}`, { token: api.tokens.office });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('bad_request');
    const malformed = await api.call('GET', '/api/v1/cases/not-a-case-id', { token: api.tokens.office });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details[0].path).toBe('params.caseId');
    const open311 = await api.call('GET', `/open311/v2/requests/${'y'.repeat(1500)}.json`);
    expect(open311.status).toBe(400);
    expect(open311.body[0].code).toBe(400);
  });
});
