/**
 * Where the fault run's notices go: a real SMTP server and a real HTTP webhook receiver on
 * loopback, in the harness's own process (which is never killed). Both keep every message they
 * accepted, with the time it arrived, so that a repeat can be laid beside the kills. (The tests'
 * own copies, test/support/mailbox.ts and receiver.ts, are not compiled into dist/.)
 */
import http from 'node:http';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A mail as the SMTP server accepted it. */
export interface ReceivedMail {
  readonly messageId: string;
  readonly to: string;
  readonly subject: string;
  /** When the server accepted it (ms since the epoch). */
  readonly at: number;
}

/** A webhook POST as the receiver accepted it (answered 200). */
export interface ReceivedHook {
  /** The URL it was posted to (one per subscriber). */
  readonly url: string;
  readonly deliveryId: string;
  readonly body: { caseId?: string; taskId?: string | null; event?: string; kind?: string; delivery?: string };
  readonly at: number;
}

export interface MailSink {
  readonly port: number;
  readonly received: ReceivedMail[];
  close(): Promise<void>;
}

export interface HookSink {
  /** The receiver's base URL: each subscriber gets its own path below it. */
  readonly url: string;
  readonly received: ReceivedHook[];
  close(): Promise<void>;
}

/**
 * An SMTP server that accepts every message after `delayMs` (a relay that takes a moment, so that
 * a kill can find a message on the wire). Like a real MTA it keeps a message only once it has
 * answered 250: one whose client went away before that is dropped.
 */
export async function startMailSink(options: { delayMs: number }): Promise<MailSink> {
  const received: ReceivedMail[] = [];
  const closed = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onClose(session) {
      closed.add(session.id);
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          if (options.delayMs > 0) await new Promise((r) => setTimeout(r, options.delayMs));
          if (closed.has(session.id)) return callback(new Error('the client went away'));
          const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
          received.push({ messageId: mail.messageId ?? '', to: to?.value[0]?.address ?? '', subject: mail.subject ?? '', at: Date.now() });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  // A client killed mid-message resets its connection: the server's loss, not the harness's.
  server.on('error', () => undefined);
  const port = await new Promise<number>((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port));
  });
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** An HTTP receiver that answers 200 to every POST and keeps its delivery id and body. */
export async function startHookSink(): Promise<HookSink> {
  const received: ReceivedHook[] = [];
  let port = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    // A sender killed mid-request: nothing was accepted.
    request.on('error', () => undefined);
    request.on('end', () => {
      let body: ReceivedHook['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedHook['body'];
      } catch {
        // kept with an empty body: the check will name it unexpected
      }
      received.push({ url: `http://127.0.0.1:${port}${request.url ?? ''}`, deliveryId: String(request.headers['duban-delivery'] ?? ''), body, at: Date.now() });
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
