import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  readonly envelope: { readonly from: string | null; readonly to: readonly string[] };
  /** The SMTP session it arrived on: equal ids mean one reused (pooled) connection. */
  readonly sessionId: string;
  /** The DATA exactly as received (CRLF line endings, encoded parts). */
  readonly raw: string;
  /** Top-level headers, lower-cased names, folded lines joined, RFC 2047 words decoded. */
  readonly headers: Readonly<Record<string, string>>;
  readonly subject: string;
  readonly to: string;
  readonly from: string;
  readonly messageId: string | null;
  /** Decoded bodies of the first text/plain and text/html parts. */
  readonly text: string | null;
  readonly html: string | null;
}

export interface FakeSmtpServer {
  /** `smtp://127.0.0.1:<port>`, ready for `SMTP_URL`. */
  readonly url: string;
  readonly port: number;
  readonly messages: ReceivedMail[];
  waitForMessage(predicate?: (mail: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail>;
  close(): Promise<void>;
}

/** Recipients at this domain get a permanent 550, like a mailbox that does not exist. */
export const REJECTED_DOMAIN = 'reject.invalid';

/** A real SMTP server on loopback: tests send through real nodemailer and read what arrived. */
export async function startFakeSmtpServer(): Promise<FakeSmtpServer> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<(mail: ReceivedMail) => void>();

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Pooled clients keep connections open; don't let close() wait the default 30 s for them.
    closeTimeout: 500,
    onRcptTo(address, _session, callback) {
      if (address.address.toLowerCase().endsWith(`@${REJECTED_DOMAIN}`)) {
        const error = Object.assign(new Error('5.1.1 Mailbox does not exist'), { responseCode: 550 });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const envelope = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
        };
        const mail = parseMail(raw, envelope, session.id);
        messages.push(mail);
        for (const waiter of waiters) waiter(mail);
        callback(null, 'OK: queued');
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    url: `smtp://127.0.0.1:${port}`,
    port,
    messages,
    waitForMessage(predicate = () => true, timeoutMs = 5_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = (mail: ReceivedMail) => {
          if (!predicate(mail)) return;
          cleanup();
          resolve(mail);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`No matching mail within ${timeoutMs} ms (${messages.length} received)`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        waiters.add(waiter);
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

// Minimal MIME: enough for the single-part and multipart/alternative mail nodemailer writes.
function parseMail(raw: string, envelope: ReceivedMail['envelope'], sessionId: string): ReceivedMail {
  const top = parsePart(raw);
  const bodies = collectBodies(top);
  return {
    envelope,
    sessionId,
    raw,
    headers: top.headers,
    subject: top.headers.subject ?? '',
    to: top.headers.to ?? '',
    from: top.headers.from ?? '',
    messageId: top.headers['message-id'] ?? null,
    text: bodies.text,
    html: bodies.html,
  };
}

interface Part {
  headers: Record<string, string>;
  body: string;
}

function parsePart(source: string): Part {
  const split = source.search(/\r?\n\r?\n/);
  const head = split === -1 ? source : source.slice(0, split);
  const body = split === -1 ? '' : source.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  // Unfold: a line starting with whitespace continues the previous header.
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function collectBodies(part: Part): { text: string | null; html: string | null } {
  const type = part.headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const result: { text: string | null; html: string | null } = { text: null, html: null };
    const sections = part.body.split(`--${boundary}`).slice(1);
    for (const section of sections) {
      if (section.startsWith('--')) break;
      const found = collectBodies(parsePart(section.replace(/^\r?\n/, '')));
      result.text ??= found.text;
      result.html ??= found.html;
    }
    return result;
  }
  const decoded = decodeBody(part.body, part.headers['content-transfer-encoding'] ?? '7bit');
  if (/^text\/html/i.test(type)) return { text: null, html: decoded };
  if (/^text\/plain/i.test(type)) return { text: decoded, html: null };
  return { text: null, html: null };
}

function decodeBody(body: string, encoding: string): string {
  const trimmed = body.replace(/\r?\n$/, '');
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(trimmed.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(trimmed.replace(/=\r?\n/g, ''));
    default:
      return trimmed;
  }
}

function decodeQuotedPrintable(value: string): string {
  // Decode to bytes first: `=EC=95=88` is one UTF-8 character, not three.
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const hex = value[i] === '=' ? value.slice(i + 1, i + 3) : '';
    if (/^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`), as nodemailer writes non-ASCII subjects. */
function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BQ]\?[^?]*\?=)\s+(?==\?)/gi, '$1')
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : decodeQuotedPrintable(text.replace(/_/g, ' ')),
    );
}
