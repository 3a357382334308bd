import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { projectRoot } from '../scripts/binaries';

/** A static file the pages load: its versioned URL and its Subresource Integrity hash. */
export interface Asset {
  readonly url: string;
  readonly integrity: string;
}

export interface PageAssets {
  readonly css: Asset;
  readonly script: Asset;
  readonly htmx: Asset;
}

const year = 31_536_000;

/**
 * Serves the pages' own stylesheet and script (web/assets) and htmx (from node_modules, the
 * installed version) under /assets/, each at a URL that names its content's hash: cached for a
 * year, immutable, and loaded with an integrity check. Read once at start-up; no CDN.
 */
export function installPageAssets(app: FastifyInstance): PageAssets {
  const files: { name: string; file: string; type: string }[] = [
    { name: 'web.css', file: path.join(projectRoot(), 'web', 'assets', 'web.css'), type: 'text/css; charset=utf-8' },
    { name: 'web.js', file: path.join(projectRoot(), 'web', 'assets', 'web.js'), type: 'text/javascript; charset=utf-8' },
    { name: 'htmx.min.js', file: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  ];
  const served = new Map<string, { bytes: Buffer; type: string }>();
  const assets = files.map(({ name, file, type }) => {
    const bytes = fs.readFileSync(file);
    const hash = crypto.createHash('sha384').update(bytes).digest();
    const versioned = name.replace(/\.(\w+)$/, `.${hash.toString('hex').slice(0, 12)}.$1`);
    served.set(versioned, { bytes, type });
    return { url: `/assets/${versioned}`, integrity: `sha384-${hash.toString('base64')}` };
  });
  app.get<{ Params: { name: string } }>('/assets/:name', { schema: { hide: true } }, async (request, reply) => {
    const asset = served.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('not found');
    return reply
      .type(asset.type)
      .header('cache-control', `public, max-age=${year}, immutable`)
      .header('x-content-type-options', 'nosniff')
      .send(asset.bytes);
  });
  return { css: assets[0]!, script: assets[1]!, htmx: assets[2]! };
}
