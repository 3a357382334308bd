import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { Config, TemporalTlsFiles } from '../config/config';

/** How to reach Temporal: what both the client's Connection and the worker's NativeConnection take. */
export interface TemporalConnectionOptions {
  readonly address: string;
  readonly tls?: TLSConfig;
  readonly apiKey?: string;
}

function readPem(file: string, variable: string): Buffer {
  try {
    const pem = fs.readFileSync(file);
    if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return pem;
  } catch (error) {
    throw new Error(`${variable}: 无法读取 ${file} / cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/** The TLS settings from the configured files, read now (so a bad path fails at start, naming its variable). */
export function loadTls(files: TemporalTlsFiles): TLSConfig {
  return {
    ...(files.certFile && files.keyFile
      ? { clientCertPair: { crt: readPem(files.certFile, 'TEMPORAL_TLS_CERT'), key: readPem(files.keyFile, 'TEMPORAL_TLS_KEY') } }
      : {}),
    ...(files.caFile ? { serverRootCACertificate: readPem(files.caFile, 'TEMPORAL_TLS_CA') } : {}),
    ...(files.serverName ? { serverNameOverride: files.serverName } : {}),
  };
}

/**
 * Connection options for the configured cluster: TEMPORAL_ADDRESS (or the embedded dev server's
 * `address`), TLS from files, and the API key.
 */
export function temporalConnectionOptions(config: Pick<Config, 'temporalTls' | 'temporalApiKey'>, address: string): TemporalConnectionOptions {
  return {
    address,
    ...(config.temporalTls ? { tls: loadTls(config.temporalTls) } : {}),
    ...(config.temporalApiKey ? { apiKey: config.temporalApiKey } : {}),
  };
}

/** The configured cluster's address, or the embedded dev server's on this machine. */
export function configuredTemporalAddress(config: Pick<Config, 'temporalAddress' | 'devServerPort'>): string {
  return config.temporalAddress ?? `127.0.0.1:${config.devServerPort}`;
}
