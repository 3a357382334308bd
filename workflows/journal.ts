import { proxyActivities } from '@temporalio/workflow';
import type { ReadModelActivities, RecordEventsInput } from '../activities/read-model.activities';
import type { DomainEvent } from '../domain/event';
import type { KeyedEvent } from '../db/event.repository';

const { recordEvents } = proxyActivities<ReadModelActivities>({
  // A database write takes milliseconds; after this long the worker is gone and another retries.
  startToCloseTimeout: '10 seconds',
  // No attempt limit: an event must reach the read model, however long the database is away.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Numbers a workflow's events (`<workflow id>#<n>`) so that the read model stores each once, and
 * writes them with the snapshot they lead to. `version` is the number of the last event.
 */
export class Journal {
  constructor(
    private readonly workflowId: string,
    private readonly caseId: string,
    private sequence = 0,
  ) {}

  get version(): number {
    return this.sequence;
  }

  /** Keys `events` in order; the snapshot that follows them has version `this.version`. */
  key(events: readonly DomainEvent[]): KeyedEvent[] {
    return events.map((event) => ({ key: `${this.workflowId}#${++this.sequence}`, caseId: this.caseId, event }));
  }

  async record(input: RecordEventsInput): Promise<void> {
    await recordEvents(input);
  }
}
