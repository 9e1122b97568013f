import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTurnstileRequest {
  readonly contentType: string;
  /** Every field as sent (form or JSON), for assertions on what went on the wire. */
  readonly params: Readonly<Record<string, string>>;
}

export interface FakeTurnstile {
  /** For `TURNSTILE_VERIFY_URL`; stands in for `https://challenges.cloudflare.com/turnstile/v0/siteverify`. */
  readonly verifyUrl: string;
  /** The one secret this fake accepts (`TURNSTILE_SECRET`). */
  readonly secret: string;
  readonly requests: FakeTurnstileRequest[];
  /**
   * The next `count` requests are judged (a token is consumed) but answered with this HTTP status
   * and no verdict: an outage where the answer is lost, which only an idempotent retry survives.
   */
  failNext(status: number, count?: number): void;
  close(): Promise<void>;
}

const PATH = '/turnstile/v0/siteverify';

/**
 * Cloudflare's siteverify on loopback. Tokens `pass-*` pass, `fail-*` are refused, anything else is
 * malformed; a token validates once (`timeout-or-duplicate` after that) unless the retry carries the
 * first request's `idempotency_key`, which repeats the first verdict, as Cloudflare documents.
 */
export async function startFakeTurnstile(): Promise<FakeTurnstile> {
  const secret = `0x${randomBytes(16).toString('hex')}`;
  const requests: FakeTurnstileRequest[] = [];
  /** token → the idempotency key and answer of its first validation. */
  const consumed = new Map<string, { idempotencyKey: string | undefined; answer: unknown }>();
  let failures: { status: number; remaining: number } | null = null;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let status: number;
      let body: unknown;
      try {
        ({ status, body } = handle(request, Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        status = 500;
        body = { success: false, 'error-codes': ['internal-error'], crash: String(error) };
      }
      if (failures && failures.remaining > 0) {
        // The verdict was reached (a token is consumed) but the answer is lost, as in a real outage.
        failures.remaining -= 1;
        status = failures.status;
        body = { success: false, 'error-codes': ['internal-error'] };
      }
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });

  function handle(request: IncomingMessage, raw: string): { status: number; body: unknown } {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    if (path !== PATH) return { status: 404, body: { success: false, 'error-codes': ['bad-request'] } };
    if (request.method !== 'POST')
      return { status: 405, body: { success: false, 'error-codes': ['bad-request'] } };
    const contentType = request.headers['content-type'] ?? '';
    const params = parseBody(contentType, raw);
    if (!params) return { status: 400, body: { success: false, 'error-codes': ['bad-request'] } };
    requests.push({ contentType, params });
    return { status: 200, body: verdict(params) };
  }

  function verdict(params: Record<string, string>): unknown {
    const errors: string[] = [];
    if (!params.secret) errors.push('missing-input-secret');
    else if (params.secret !== secret) errors.push('invalid-input-secret');
    const token = params.response;
    if (!token) errors.push('missing-input-response');
    if (errors.length > 0 || !token) return failure(errors);

    const previous = consumed.get(token);
    if (previous) {
      return previous.idempotencyKey && previous.idempotencyKey === params.idempotency_key
        ? previous.answer
        : failure(['timeout-or-duplicate']);
    }
    const answer = token.startsWith('pass-')
      ? {
          success: true,
          challenge_ts: new Date().toISOString(),
          hostname: 'caravan.test',
          'error-codes': [],
          action: '',
          cdata: '',
          metadata: { interactive: false },
        }
      : failure(['invalid-input-response']);
    if (token.startsWith('pass-') || token.startsWith('fail-')) {
      consumed.set(token, { idempotencyKey: params.idempotency_key, answer });
    }
    return answer;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    verifyUrl: `http://127.0.0.1:${port}${PATH}`,
    secret,
    requests,
    failNext(status, count = 1) {
      failures = { status, remaining: count };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function failure(errorCodes: string[]): unknown {
  return { success: false, 'error-codes': errorCodes, messages: [] };
}

/** Siteverify takes application/x-www-form-urlencoded or JSON. */
function parseBody(contentType: string, raw: string): Record<string, string> | null {
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  if (contentType.startsWith('application/json')) {
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed !== 'object' || parsed === null) return null;
      return Object.fromEntries(
        Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
    } catch {
      return null;
    }
  }
  return null;
}
