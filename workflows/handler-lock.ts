import { condition } from '@temporalio/workflow';

/**
 * A first-come, first-served lock for a workflow's message handlers. A handler that checks the
 * state, awaits (an activity, a signal, a child's end) and then changes the state must hold it
 * for the whole of that, or another handler can change the state in the gap. Tickets are handed
 * out in the order the handlers run, which replay repeats, so the lock is deterministic.
 */
export class HandlerLock {
  private issued = 0;
  private serving = 0;

  /** Waits for the caller's turn; the function returned releases the lock (call it exactly once). */
  async acquire(): Promise<() => void> {
    const ticket = this.issued++;
    // A free lock is taken at once, so a command that meets no other runs as it would alone.
    if (ticket !== this.serving) await condition(() => this.serving === ticket);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.serving++;
    };
  }

  /** Runs `fn` once every earlier caller is done, and releases the lock however `fn` ends. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
