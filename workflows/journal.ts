import type { RecordEventsInput } from '../activities/read-model.activities';
import type { DomainEvent } from '../domain/event';
import type { KeyedEvent } from '../db/event.repository';
import { readModel } from './activities';

/** Where a journal stands, carried across continue-as-new. */
export interface JournalPosition {
  /** Number of the workflow's last event. */
  readonly sequence: number;
  /** Version of the workflow's last snapshot written. */
  readonly writes: number;
}

/**
 * Numbers a workflow's events (`<workflow id>#<n>`) so that the read model stores each once, and
 * stamps each snapshot it writes with a rising version so that a late write never wins.
 */
export class Journal {
  private sequence: number;
  private writes: number;
  /** Fenced: the write under way, which the next waits for (writes reach the read model in order). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly workflowId: string,
    private readonly caseId: string,
    position: JournalPosition = { sequence: 0, writes: 0 },
    /** Writes as local activities without asking (a patch implying 'local-read-model' is in force). */
    private readonly local = false,
    /** Fences each write by the workflow task attempt that makes it (a `fenced-*-journal` patch is in force). */
    private readonly fenced = false,
  ) {
    this.sequence = position.sequence;
    this.writes = position.writes;
  }

  get position(): JournalPosition {
    return { sequence: this.sequence, writes: this.writes };
  }

  /** Keys `events` in order. */
  key(events: readonly DomainEvent[]): KeyedEvent[] {
    return events.map((event) => ({ key: `${this.workflowId}#${++this.sequence}`, caseId: this.caseId, event }));
  }

  /** The version for the next snapshot written. */
  stamp(): number {
    return ++this.writes;
  }

  /**
   * Writes `input`, whose events {@link key} has just numbered. Fenced, the write carries its first
   * position and the workflow's clock now: the start of this attempt of the workflow task, the
   * same when the local activity runs again, higher in a later attempt (which may decide
   * differently: a message that arrived meanwhile is handled first). docs/reliability.md.
   */
  async record(input: RecordEventsInput): Promise<void> {
    if (!this.fenced) {
      await readModel(this.local).recordEvents(input);
      return;
    }
    // One at a time, in the order numbered: a case's writes from different handlers (a task's end,
    // a command) would otherwise race, and a later workflow task's write landing first would make
    // an earlier one look like a dead attempt's.
    const from = this.sequence - input.events.length + 1;
    const write = this.tail.then(() => readModel(this.local).recordEvents({ ...input, fence: { stream: this.workflowId, from, fence: Date.now() } }));
    this.tail = write.catch(() => undefined);
    await write;
  }
}
