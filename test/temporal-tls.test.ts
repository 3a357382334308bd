import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config';
import type { DevServer } from '../worker/dev-server';
import { temporalConnectionOptions } from '../worker/temporal-connection';
import { freePort, startTestDevServer } from './support/processes';

/** A CA, a server certificate for localhost and a client certificate, made with openssl. */
function makeCertificates(dir: string, prefix: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const file = (name: string) => path.join(dir, `${prefix}-${name}`);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${prefix} test CA`, '-keyout', file('ca.key'), '-out', file('ca.pem'));
  const sign = (name: string, subject: string, extensions: string) => {
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`));
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file(`${name}.ext`), '-out', file(`${name}.pem`));
  };
  sign('server', '/CN=localhost', 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  sign('client', '/CN=duban-worker', 'extendedKeyUsage=clientAuth\n');
  return { ca: file('ca.pem'), serverCert: file('server.pem'), serverKey: file('server.key'), clientCert: file('client.pem'), clientKey: file('client.key') };
}

/**
 * A gRPC front end as a TLS-terminating cluster has one: HTTP/2 over TLS that demands a client
 * certificate signed by its CA, forwarding each call to the plain dev server behind it, and noting
 * the authorization header each call carried.
 */
async function startTlsFront(certs: ReturnType<typeof makeCertificates>, backend: string) {
  const authorizations: (string | undefined)[] = [];
  const upstream = http2.connect(`http://${backend}`);
  const server = http2.createSecureServer({
    key: fs.readFileSync(certs.serverKey),
    cert: fs.readFileSync(certs.serverCert),
    ca: fs.readFileSync(certs.ca),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('stream', (stream, headers) => {
    authorizations.push(headers.authorization);
    const forwarded = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith(':') || name === ':path' || name === ':method'));
    const call = upstream.request(forwarded, { endStream: false });
    stream.pipe(call);
    call.on('response', (responseHeaders) => {
      const { ':status': status, ...rest } = responseHeaders;
      stream.respond({ ':status': status, ...rest }, { waitForTrailers: true });
      call.pipe(stream);
    });
    let trailers: http2.OutgoingHttpHeaders = {};
    call.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => {
      call.once('close', () => stream.sendTrailers(trailers));
      if (call.closed) stream.sendTrailers(trailers);
    });
    call.on('error', () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('error', () => call.close(http2.constants.NGHTTP2_CANCEL));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: async () => {
      upstream.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('an external Temporal cluster behind TLS with client certificates and an API key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duban-tls-'));
  let server: DevServer;
  let front: Awaited<ReturnType<typeof startTlsFront>>;
  let certs: ReturnType<typeof makeCertificates>;
  let strangers: ReturnType<typeof makeCertificates>;

  beforeAll(async () => {
    certs = makeCertificates(dir, 'cluster');
    strangers = makeCertificates(dir, 'stranger');
    server = await startTestDevServer(dir, await freePort());
    front = await startTlsFront(certs, server.address);
  });
  afterAll(async () => {
    await front?.close();
    await server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const envFor = (overrides: Record<string, string>) => ({
    DUBAN_DATA_DIR: path.join(dir, 'data'),
    TEMPORAL_ADDRESS: front.address,
    TEMPORAL_TLS_CERT: certs.clientCert,
    TEMPORAL_TLS_KEY: certs.clientKey,
    TEMPORAL_TLS_CA: certs.ca,
    TEMPORAL_TLS_SERVER_NAME: 'localhost',
    TEMPORAL_API_KEY: 'k3y-for-duban',
    ...overrides,
  });

  it('connects the client and the worker’s native connection with the configured certificate, sending the API key', async () => {
    const config = loadConfig(envFor({}));
    const options = temporalConnectionOptions(config, front.address);
    const connection = await Connection.connect(options);
    try {
      const described = await connection.workflowService.describeNamespace({ namespace: 'default' });
      expect(described.namespaceInfo?.name).toBe('default');
    } finally {
      await connection.close();
    }
    const native = await NativeConnection.connect(options);
    try {
      const info = await native.workflowService.getSystemInfo({});
      expect(info.capabilities).toBeTruthy();
    } finally {
      await native.close();
    }
    expect(front.authorizations.length).toBeGreaterThan(0);
    expect(new Set(front.authorizations)).toEqual(new Set(['Bearer k3y-for-duban']));
  });

  it('is refused without a client certificate the cluster trusts, and does not trust a server its CA did not sign', async () => {
    const { TEMPORAL_TLS_CERT: _cert, TEMPORAL_TLS_KEY: _key, ...withoutCertificate } = envFor({});
    const noCert = loadConfig(withoutCertificate);
    expect(noCert.temporalTls).toMatchObject({ certFile: undefined, caFile: certs.ca });
    await expect(Connection.connect({ ...temporalConnectionOptions(noCert, front.address), connectTimeout: 3000 })).rejects.toThrow();
    const wrongClient = loadConfig(envFor({ TEMPORAL_TLS_CERT: strangers.clientCert, TEMPORAL_TLS_KEY: strangers.clientKey }));
    await expect(Connection.connect({ ...temporalConnectionOptions(wrongClient, front.address), connectTimeout: 3000 })).rejects.toThrow();
    const wrongCa = loadConfig(envFor({ TEMPORAL_TLS_CA: strangers.ca }));
    await expect(Connection.connect({ ...temporalConnectionOptions(wrongCa, front.address), connectTimeout: 3000 })).rejects.toThrow();
  });

  it('fails at start, naming the variable, on half a key pair, TLS without an address, or a file it cannot read', () => {
    expect(() => loadConfig(envFor({ TEMPORAL_TLS_KEY: '' }))).toThrow(/TEMPORAL_TLS_KEY/);
    const { TEMPORAL_TLS_KEY: _key, ...halfPair } = envFor({});
    expect(() => loadConfig(halfPair)).toThrow(/TEMPORAL_TLS_CERT \/ TEMPORAL_TLS_KEY: give both/);
    const { TEMPORAL_ADDRESS: _address, ...noAddress } = envFor({});
    expect(() => loadConfig(noAddress)).toThrow(/TEMPORAL_ADDRESS: TLS options are for an external cluster/);
    const missing = loadConfig(envFor({ TEMPORAL_TLS_CA: path.join(dir, 'nope.pem') }));
    expect(() => temporalConnectionOptions(missing, front.address)).toThrow(/^TEMPORAL_TLS_CA: .*nope\.pem/);
    fs.writeFileSync(path.join(dir, 'not-pem.txt'), 'hello');
    const notPem = loadConfig(envFor({ TEMPORAL_TLS_CERT: path.join(dir, 'not-pem.txt') }));
    expect(() => temporalConnectionOptions(notPem, front.address)).toThrow(/^TEMPORAL_TLS_CERT: .*not a PEM file/);
    // TLS with the system's roots only (e.g. Temporal Cloud with an API key), and none at all.
    expect(loadConfig({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_TLS: 'true', TEMPORAL_API_KEY: 'x' }).temporalTls).toEqual({
      certFile: undefined,
      keyFile: undefined,
      caFile: undefined,
      serverName: undefined,
    });
    expect(loadConfig({}).temporalTls).toBeUndefined();
  });
});
