import type { Config } from '../config/config.ts';

export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
}

export interface EmailTransport {
  /** `local`: nothing leaves the process; the caller's `outbound_messages` row is the mailbox. */
  readonly kind: 'smtp' | 'local';
  send(message: EmailMessage): Promise<{ providerMessageId: string | null }>;
  close(): Promise<void>;
}

export type EmailErrorCode = 'rejected' | 'auth_failed' | 'unavailable' | 'network_error';

/**
 * A failed send. `permanent` tells the job layer not to retry: the server refused this message for
 * good (5xx reply, e.g. 550 no such mailbox). 4xx replies, auth and connection failures are retried,
 * because the message itself is fine and the cause may clear.
 */
export class EmailDeliveryError extends Error {
  readonly code: EmailErrorCode;
  readonly permanent: boolean;
  /** The SMTP reply code, when the server answered. */
  readonly responseCode: number | null;

  constructor(code: EmailErrorCode, permanent: boolean, responseCode: number | null, cause: unknown) {
    super(`Email delivery failed (${code}): ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'EmailDeliveryError';
    this.code = code;
    this.permanent = permanent;
    this.responseCode = responseCode;
  }
}

export function createEmailTransport(mail: Config['mail']): EmailTransport {
  if (!mail.smtpUrl) {
    return { kind: 'local', send: async () => ({ providerMessageId: null }), close: async () => {} };
  }
  // nodemailer ignores option objects when given a URL, so pooling and timeouts go in as query
  // parameters; ones already in SMTP_URL win. Its default timeouts (2 min connect, 10 min socket)
  // would hold a job worker far longer than a retry costs.
  const url = new URL(mail.smtpUrl);
  const defaults = {
    pool: 'true',
    connectionTimeout: '10000',
    greetingTimeout: '10000',
    socketTimeout: '30000',
  };
  for (const [key, value] of Object.entries(defaults)) {
    if (!url.searchParams.has(key)) url.searchParams.set(key, value);
  }
  // Loaded only when SMTP is configured: a server that keeps mail locally never pays for it.
  const transporter = import('nodemailer').then(({ default: nodemailer }) =>
    nodemailer.createTransport(url.toString(), { from: mail.from }),
  );

  return {
    kind: 'smtp',
    async send(message) {
      try {
        const info = await (await transporter).sendMail({
          to: message.to,
          subject: message.subject,
          text: message.text,
          ...(message.html === undefined ? {} : { html: message.html }),
        });
        // The Message-ID header we generated: the one id both sides and any bounce will share.
        return { providerMessageId: typeof info.messageId === 'string' ? info.messageId : null };
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
    async close() {
      (await transporter).close();
    },
  };
}

function toDeliveryError(error: unknown): EmailDeliveryError {
  const { code, responseCode } = (error ?? {}) as { code?: unknown; responseCode?: unknown };
  const reply = typeof responseCode === 'number' ? responseCode : null;
  if (code === 'EAUTH') return new EmailDeliveryError('auth_failed', false, reply, error);
  if (reply !== null && reply >= 500) return new EmailDeliveryError('rejected', true, reply, error);
  if (reply !== null) return new EmailDeliveryError('unavailable', false, reply, error);
  return new EmailDeliveryError('network_error', false, null, error);
}
