import nodemailer from 'nodemailer';

/** Where and how to hand mail over: an SMTP server, as configured. */
export interface SmtpSettings {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465). */
  readonly secure: boolean;
  /** STARTTLS: `required` refuses a server that does not offer it; `never` does not ask. */
  readonly startTls: 'required' | 'opportunistic' | 'never';
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** The From of every notice, e.g. `督办系统 <duban@example.gov.cn>`. */
  readonly from: string;
}

/** One message for one person. */
export interface OutgoingMail {
  readonly to: { readonly name: string; readonly address: string };
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Stable per delivery, so that a message sent twice after a crash is seen as one. */
  readonly messageId: string;
  readonly urgent: boolean;
}

/**
 * Why a send failed: `permanent` (the server refused for good, e.g. 550) or not (try again). The
 * message is the server's whole answer, which may name addresses (for the office only);
 * `summary` is what anyone following the case may see: a status code or a class of fault.
 */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly summary: string,
  ) {
    super(message);
  }
}

/** Mail over SMTP with nodemailer: one pooled connection, reused. */
export function createMailChannel(settings: SmtpSettings) {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.startTls === 'required',
    ignoreTLS: settings.startTls === 'never',
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    pool: true,
    maxConnections: 2,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail: OutgoingMail): Promise<string> {
      try {
        const info = await transport.sendMail({
          from: settings.from,
          to: { name: mail.to.name, address: mail.to.address },
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          ...(mail.urgent ? { priority: 'high' as const } : {}),
        });
        return String(info.response ?? 'accepted');
      } catch (error) {
        const { responseCode, code } = error as { responseCode?: number; code?: string };
        // 5xx from the server is a refusal for good (no such mailbox …); the rest may pass.
        const permanent = typeof responseCode === 'number' && responseCode >= 500;
        const summary = typeof responseCode === 'number' ? `SMTP ${responseCode}` : `SMTP: ${typeof code === 'string' ? code : 'no answer'}`;
        throw new ChannelError(`smtp: ${(error as Error).message}`, permanent, summary);
      }
    },
    close(): void {
      transport.close();
    },
  };
}
export type MailChannel = ReturnType<typeof createMailChannel>;
