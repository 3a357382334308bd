import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on loopback that keeps what it receives, parsed. */
export interface Mailbox {
  readonly port: number;
  readonly received: ParsedMail[];
  /** Refuse the next `n` messages with `code` (e.g. 451 try later, 550 no such mailbox). */
  refuseNext(n: number, code: number): void;
  /** Refuse every message to `address` at RCPT TO, with 550 naming it, as a server with no such mailbox does. */
  refuseRecipient(address: string): void;
  /** Resolves once at least `count` messages have arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ParsedMail[]>;
  close(): Promise<void>;
}

/**
 * `delayMs`: how long the server takes to accept each message once it has it (a slow relay). Like
 * a real MTA, the server keeps a message only when it accepts it: one whose client went away
 * before that is dropped.
 */
export async function startMailbox(options: { delayMs?: number } = {}): Promise<Mailbox> {
  const received: ParsedMail[] = [];
  const closed = new Set<string>();
  const unknown = new Set<string>();
  let refusals = 0;
  let refusalCode = 451;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (unknown.has(address.address)) {
        callback(Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected: User unknown`), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onClose(session) {
      closed.add(session.id);
    },
    onData(stream, session, callback) {
      if (refusals > 0) {
        refusals--;
        stream.resume();
        stream.on('end', () => callback(Object.assign(new Error('refused by the test'), { responseCode: refusalCode })));
        return;
      }
      simpleParser(stream)
        .then(async (mail) => {
          if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
          if (closed.has(session.id)) return callback(new Error('the client went away'));
          received.push(mail);
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
  return {
    port,
    received,
    refuseRecipient(address) {
      unknown.add(address);
    },
    refuseNext(n, code) {
      refusals = n;
      refusalCode = code;
    },
    async waitFor(count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${received.length} of ${count} messages arrived`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return received;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
