/**
 * The fault run's HTTP client: every command carries an Idempotency-Key and is sent again, with
 * the same key, after a connection error, a time-out or a 5xx, until it gets a definitive answer.
 * A 409 after a first attempt that got no answer is resolved by reading the state: the command may
 * have taken effect before the process answering it died.
 */

export interface ClientStats {
  requests: number;
  /** Sent again after a connection error, a time-out or a 5xx. */
  retries: number;
  /** Answered from the API's idempotency store (`Idempotent-Replayed: true`). */
  replays: number;
  /** 409s after a lost answer where reading the state showed the command had taken effect. */
  resolvedConflicts: number;
  /** 409s because the first request with the key was still held by a dead process (waited out). */
  heldKeys: number;
  /** Answers by status (and `network` for none). */
  byStatus: Record<string, number>;
}

export const emptyStats = (): ClientStats => ({ requests: 0, retries: 0, replays: 0, resolvedConflicts: 0, heldKeys: 0, byStatus: {} });

/** A command that got an answer no retry can change (a 4xx other than a resolvable 409). */
export class RefusedCommand extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ChaosApi {
  constructor(
    private readonly baseUrl: string,
    readonly stats: ClientStats,
    private readonly options: { requestTimeoutMs: number; commandDeadlineMs: number },
  ) {}

  private async send(method: 'GET' | 'POST', path: string, token: string, body?: unknown, key?: string) {
    this.stats.requests++;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key !== undefined) headers['idempotency-key'] = key;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const text = await response.text();
      this.stats.byStatus[response.status] = (this.stats.byStatus[response.status] ?? 0) + 1;
      if (response.headers.get('idempotent-replayed') === 'true') this.stats.replays++;
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // kept as text
      }
      return { status: response.status, body: parsed };
    } catch {
      this.stats.byStatus.network = (this.stats.byStatus.network ?? 0) + 1;
      return { status: 0, body: null as unknown };
    }
  }

  private async backoff(attempt: number): Promise<void> {
    await sleep(Math.min(3_000, 200 * 2 ** Math.min(attempt, 4)) + Math.random() * 200);
  }

  /** A read, retried until it is answered 2xx; a 4xx is refused. */
  async get(path: string, token: string): Promise<unknown> {
    const deadline = Date.now() + this.options.commandDeadlineMs;
    for (let attempt = 1; ; attempt++) {
      const { status, body } = await this.send('GET', path, token);
      if (status >= 200 && status < 300) return body;
      if (status >= 400 && status < 500) throw new RefusedCommand(`GET ${path}: ${status} ${JSON.stringify(body)}`, status, body);
      if (Date.now() > deadline) throw new Error(`GET ${path}: no answer within ${this.options.commandDeadlineMs} ms (last ${status})`);
      this.stats.retries++;
      await this.backoff(attempt);
    }
  }

  /**
   * A command (POST with `key`), retried until it has a definitive answer: its 2xx body, or null
   * when a 409 came after a lost answer and `tookEffect` (reading the state) says it had taken
   * effect. A 409 because the first request's claim of the key is still held (its process died;
   * the API takes such a claim over after two minutes) is waited out by sending again.
   */
  async command(path: string, token: string, body: unknown, key: string, tookEffect: () => Promise<boolean>): Promise<unknown> {
    const deadline = Date.now() + this.options.commandDeadlineMs;
    for (let attempt = 1; ; attempt++) {
      const { status, body: answer } = await this.send('POST', path, token, body, key);
      if (status >= 200 && status < 300) return answer;
      if (status === 409 && attempt > 1) {
        if (await tookEffect()) {
          this.stats.resolvedConflicts++;
          return null;
        }
        const error = (answer as { error?: { code?: string; message?: string } } | null)?.error;
        const held = error?.code === 'conflict' && /still running/.test(String(error.message));
        if (held) this.stats.heldKeys++;
        else throw new RefusedCommand(`POST ${path} (${key}): 409 and the state shows it did not take effect: ${JSON.stringify(answer)}`, status, answer);
      } else if (status >= 400 && status < 500) {
        throw new RefusedCommand(`POST ${path} (${key}): ${status} ${JSON.stringify(answer)}`, status, answer);
      }
      if (Date.now() > deadline) throw new Error(`POST ${path} (${key}): no definitive answer within ${this.options.commandDeadlineMs} ms (last ${status})`);
      if (status !== 409) this.stats.retries++;
      await this.backoff(attempt);
    }
  }
}
