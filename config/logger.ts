import pino, { type Logger } from 'pino';
import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';
import type { Config } from './config';

/** The process's structured logger (JSON lines on stderr). */
export function createLogger(level: Config['logLevel'], name = 'duban'): Logger {
  return pino({ name, level }, pino.destination(2));
}

const temporalLevels: Record<Config['logLevel'], LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

/**
 * Routes the Temporal SDK's own logs (worker, workflows, activities) into `logger`, and exports
 * the SDK's worker metrics to Prometheus at `metricsAddress` (host:port) when given. Call it before
 * any connection to Temporal is made.
 */
export function installTemporalLogging(logger: Logger, level: Config['logLevel'], metricsAddress?: string): void {
  const child = logger.child({ component: 'temporal' });
  Runtime.install({
    ...(metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } } : {}),
    logger: new DefaultLogger(temporalLevels[level], (entry) => {
      const { message, meta } = entry;
      const method = entry.level === 'TRACE' ? 'trace' : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      child[method](meta ?? {}, message);
    }),
  });
}
