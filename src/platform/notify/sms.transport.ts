import type Twilio from 'twilio';
import type { Config } from '../config/config.ts';

export interface SmsMessage {
  /** E.164, e.g. `+821012345678`. */
  readonly to: string;
  readonly body: string;
}

export interface SmsTransport {
  /** `local`: nothing leaves the process; the caller's `outbound_messages` row is the record. */
  readonly kind: 'twilio' | 'local';
  send(message: SmsMessage): Promise<{ providerMessageId: string | null }>;
}

export type SmsErrorCode =
  | 'invalid_recipient'
  | 'rejected'
  | 'auth_failed'
  | 'rate_limited'
  | 'unavailable'
  | 'network_error';

/**
 * A failed send. `permanent` tells the job layer not to retry: Twilio refused this message for good
 * (a 4xx about the number or content). Auth failures, 429, 5xx and network errors are retried: the
 * message is fine and the cause may clear (credentials are fixed by a redeploy, outages end).
 */
export class SmsDeliveryError extends Error {
  readonly code: SmsErrorCode;
  readonly permanent: boolean;
  /** HTTP status from Twilio, when it answered. */
  readonly status: number | null;
  /** Twilio's numeric error code (https://www.twilio.com/docs/api/errors), when it gave one. */
  readonly providerCode: number | null;

  constructor(
    code: SmsErrorCode,
    permanent: boolean,
    details: { status?: number | null; providerCode?: number | null; message: string; cause?: unknown },
  ) {
    super(`SMS delivery failed (${code}): ${details.message}`, { cause: details.cause });
    this.name = 'SmsDeliveryError';
    this.code = code;
    this.permanent = permanent;
    this.status = details.status ?? null;
    this.providerCode = details.providerCode ?? null;
  }
}

// Twilio codes that name the recipient as the problem: 21211 invalid 'To', 21214 not reachable,
// 21408 region not enabled, 21610 unsubscribed (STOP), 21612 unroutable, 21614 not a mobile number.
const RECIPIENT_CODES = new Set([21211, 21214, 21408, 21610, 21612, 21614]);
const E164 = /^\+[1-9]\d{6,14}$/;
// Jobs own retries (with backoff and a dead-letter queue); a long in-request wait only holds a worker.
const TIMEOUT_MS = 15_000;

export function createSmsTransport(sms: Config['sms']): SmsTransport {
  const settings = sms.twilio;
  // Checked for both kinds so an offline run rejects the same numbers production would.
  const checkRecipient = (to: string) => {
    if (!E164.test(to)) {
      throw new SmsDeliveryError('invalid_recipient', true, {
        message: `"${to}" is not an E.164 phone number`,
      });
    }
  };
  if (!settings) {
    return {
      kind: 'local',
      async send(message) {
        checkRecipient(message.to);
        return { providerMessageId: null };
      },
    };
  }

  // Loaded only when Twilio is configured: the SDK is large and a local server never needs it.
  const client = import('twilio').then(({ default: twilio }) =>
    twilio(settings.accountSid, settings.authToken, {
      timeout: TIMEOUT_MS,
      ...(settings.apiBaseUrl ? { httpClient: rebasedRequestClient(twilio, settings.apiBaseUrl) } : {}),
    }),
  );
  // A Messaging Service SID (MG…) as the sender lets Twilio pick the number from its pool.
  const sender = settings.from.startsWith('MG')
    ? { messagingServiceSid: settings.from }
    : { from: settings.from };

  return {
    kind: 'twilio',
    async send(message) {
      checkRecipient(message.to);
      try {
        const created = await (await client).messages.create({
          to: message.to,
          body: message.body,
          ...sender,
        });
        return { providerMessageId: created.sid };
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
  };
}

/**
 * The SDK builds absolute `https://*.twilio.com` URLs and offers no base-URL option, but it accepts
 * its own `RequestClient`: this one swaps the origin (keeping path and query) so tests and staging
 * can point the real SDK at a loopback fake or a proxy.
 */
function rebasedRequestClient(twilio: typeof Twilio, apiBaseUrl: string): Twilio.RequestClient {
  const base = new URL(apiBaseUrl);
  const prefix = base.pathname.replace(/\/$/, '');
  const inner = new twilio.RequestClient({ timeout: TIMEOUT_MS });
  const request: Twilio.RequestClient['request'] = (options) => {
    const target = new URL(options.uri);
    return inner.request({ ...options, uri: `${base.origin}${prefix}${target.pathname}${target.search}` });
  };
  return Object.assign(Object.create(inner) as Twilio.RequestClient, { request });
}

function toDeliveryError(error: unknown): SmsDeliveryError {
  // RestException (legacy body) and TwilioServiceException (RFC 9457 body) both carry these.
  const { status, code, message } = (error ?? {}) as { status?: unknown; code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  const providerCode = typeof code === 'number' ? code : null;
  if (typeof status !== 'number') {
    return new SmsDeliveryError('network_error', false, { message: text, cause: error });
  }
  const details = { status, providerCode, message: text, cause: error };
  if (status === 401 || status === 403) return new SmsDeliveryError('auth_failed', false, details);
  if (status === 429) return new SmsDeliveryError('rate_limited', false, details);
  if (status >= 500) return new SmsDeliveryError('unavailable', false, details);
  if (providerCode !== null && RECIPIENT_CODES.has(providerCode)) {
    return new SmsDeliveryError('invalid_recipient', true, details);
  }
  return new SmsDeliveryError('rejected', true, details);
}
