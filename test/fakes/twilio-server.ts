import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeTwilioMessage {
  readonly sid: string;
  readonly accountSid: string;
  readonly to: string;
  readonly from: string | null;
  readonly messagingServiceSid: string | null;
  readonly body: string;
  /** Every form field as sent, for assertions on what the SDK put on the wire. */
  readonly params: Readonly<Record<string, string>>;
}

export interface FakeTwilio {
  /** For `TWILIO_API_BASE_URL`; stands in for `https://api.twilio.com`. */
  readonly baseUrl: string;
  readonly accountSid: string;
  readonly authToken: string;
  readonly messages: FakeTwilioMessage[];
  /** Makes the next request fail with this status (and Twilio error code), e.g. 503 for an outage. */
  failNext(status: number, code?: number): void;
  close(): Promise<void>;
}

// The magic "To" numbers Twilio's test credentials answer with an error
// (https://www.twilio.com/docs/iam/test-credentials).
const MAGIC_TO: Record<string, { code: number; message: (to: string) => string }> = {
  '+15005550001': { code: 21211, message: (to) => `The 'To' number ${to} is not a valid phone number.` },
  '+15005550004': { code: 21610, message: () => 'Attempt to send to unsubscribed recipient' },
  '+15005550009': { code: 21614, message: (to) => `'To' number ${to} is not a valid mobile number` },
};

const MESSAGES_PATH = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/;

/** Twilio's Messages API on loopback, speaking its wire format, for the real `twilio` SDK. */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const messages: FakeTwilioMessage[] = [];
  let nextFailure: { status: number; code: number } | null = null;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const failure = nextFailure;
      nextFailure = null;
      let reply: Reply;
      try {
        reply = failure
          ? twilioError(failure.status, failure.code, 'Injected failure')
          : handle(request, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        // A bug in the fake should fail the test now, not hang it until the SDK's timeout.
        reply = twilioError(500, 20500, `Fake Twilio crashed: ${String(error)}`);
      }
      response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8' });
      response.end(JSON.stringify(reply.body));
    });
  });

  function handle(request: IncomingMessage, rawBody: string): Reply {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const match = MESSAGES_PATH.exec(path);
    if (request.method !== 'POST' || !match) {
      return twilioError(404, 20404, `The requested resource ${path} was not found`);
    }
    if (!authorized(request.headers.authorization)) {
      return twilioError(401, 20003, 'Authenticate');
    }
    if (match[1] !== accountSid) {
      return twilioError(404, 20404, `The requested resource ${path} was not found`);
    }

    const params = Object.fromEntries(new URLSearchParams(rawBody));
    const { To: to, From: from, MessagingServiceSid: serviceSid, Body: body } = params;
    if (!to) return twilioError(400, 21604, "A 'To' phone number is required.");
    if (!from && !serviceSid) return twilioError(400, 21603, "A 'From' phone number is required.");
    if (!body) return twilioError(400, 21602, 'Message body is required.');
    const magic = MAGIC_TO[to];
    if (magic) return twilioError(400, magic.code, magic.message(to));

    const sid = `SM${randomBytes(16).toString('hex')}`;
    messages.push({
      sid,
      accountSid,
      to,
      from: from ?? null,
      messagingServiceSid: serviceSid ?? null,
      body,
      params,
    });
    // Twilio's dates are RFC 2822 with a numeric zone.
    const now = new Date().toUTCString().replace('GMT', '+0000');
    const uri = `/2010-04-01/Accounts/${accountSid}/Messages/${sid}`;
    return {
      status: 201,
      body: {
        account_sid: accountSid,
        api_version: '2010-04-01',
        body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from: from ?? null,
        messaging_service_sid: serviceSid ?? null,
        num_media: '0',
        num_segments: String(segments(body)),
        price: null,
        price_unit: 'USD',
        sid,
        status: serviceSid && !from ? 'accepted' : 'queued',
        subresource_uris: { media: `${uri}/Media.json` },
        to,
        uri: `${uri}.json`,
      },
    };
  }

  function authorized(header: string | undefined): boolean {
    if (!header?.startsWith('Basic ')) return false;
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded === `${accountSid}:${authToken}`;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    failNext(status, code = status >= 500 ? 20500 : 20001) {
      nextFailure = { status, code };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        // The SDK keeps connections alive; drop them so close() returns now.
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

/** Twilio's legacy error body, which the SDK turns into a RestException with `status` and `code`. */
function twilioError(status: number, code: number, message: string): Reply {
  return { status, body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status } };
}

/** GSM-7 text fits 160 chars (153 per part when split); anything else is UCS-2 at 70 (67). */
function segments(body: string): number {
  const gsm = /^[\x20-\x7e\r\n]*$/.test(body);
  const single = gsm ? 160 : 70;
  const multi = gsm ? 153 : 67;
  return body.length <= single ? 1 : Math.ceil(body.length / multi);
}
