import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log warnings and errors only; each test file runs in its own process.
Runtime.install({ logger: new DefaultLogger('WARN') });
