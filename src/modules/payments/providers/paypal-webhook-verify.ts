import { type KeyObject, verify as verifySignature, X509Certificate } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { Clock } from '../../../platform/clock/clock.ts';
import { AppError } from '../../../platform/errors/index.ts';
// For its registerErrorCodes: the codes thrown here map to their HTTP statuses.
import './payment-provider.port.ts';
import type { WebhookRequest } from './payment-provider.port.ts';

/** Returns the PEM text served at a PayPal certificate URL. Tests inject one; production uses fetch. */
export type FetchPayPalCertificate = (url: string) => Promise<string>;

export interface PayPalWebhookVerifier {
  /** The verified event body, parsed. Throws `AppError('webhook_signature_invalid')` otherwise. */
  verify(request: WebhookRequest): Promise<Record<string, unknown>>;
}

// PayPal signs a transmission time; anything older is a replay, anything far ahead a forged clock.
const MAX_AGE_MS = 5 * 60_000;
const MAX_AHEAD_MS = 30_000;
// Only PayPal-hosted URLs are ever fetched, but their paths are attacker-chosen: keep the cache small.
const CERTIFICATE_CACHE_LIMIT = 16;
const CERTIFICATE_MAX_BYTES = 64 * 1024;
const CERTIFICATE_FETCH_TIMEOUT_MS = 5_000;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

interface CachedCertificate {
  readonly publicKey: KeyObject;
  readonly validFrom: number;
  readonly validTo: number;
}

/**
 * PayPal's self-verification of webhooks ("verify the signature yourself", no API round trip):
 * https://developer.paypal.com/api/rest/webhooks/rest/#link-selfverificationmethod
 * The signed message is `<transmission id>|<transmission time>|<our webhook id>|<crc32 of the raw
 * body, unsigned decimal>`, signed SHA256withRSA with the key of the certificate at
 * `paypal-cert-url`. That URL comes from the request, so it is the trust anchor and is checked
 * before anything is fetched: https on a host under `.paypal.com` (redirects refused), or — only
 * when an API base URL is configured, i.e. against a fake in tests — the same origin as that URL.
 * The signature check itself covers the webhook id, so an event for another of the account's
 * webhooks (or another account) does not verify here.
 */
export function createPayPalWebhookVerifier(options: {
  readonly webhookId: string;
  readonly apiBaseUrl: string | undefined;
  readonly clock: Clock;
  readonly fetchCertificate?: FetchPayPalCertificate | undefined;
}): PayPalWebhookVerifier {
  const fetchCertificate = options.fetchCertificate ?? fetchCertificateOverHttps;
  const allowedOrigin = options.apiBaseUrl ? new URL(options.apiBaseUrl).origin : null;
  const certificates = new Map<string, Promise<CachedCertificate>>();

  function certificateFor(url: string): Promise<CachedCertificate> {
    const cached = certificates.get(url);
    if (cached) return cached;
    const loading = fetchCertificate(url).then(parseCertificate);
    // A failed fetch is not remembered: the next delivery (PayPal retries) tries again.
    loading.catch(() => certificates.delete(url));
    if (certificates.size >= CERTIFICATE_CACHE_LIMIT) {
      const oldest = certificates.keys().next().value;
      if (oldest !== undefined) certificates.delete(oldest);
    }
    certificates.set(url, loading);
    return loading;
  }

  return {
    async verify(request) {
      const transmissionId = header(request, 'paypal-transmission-id');
      const transmissionTime = header(request, 'paypal-transmission-time');
      const signature = header(request, 'paypal-transmission-sig');
      const certUrl = header(request, 'paypal-cert-url');
      const algorithm = header(request, 'paypal-auth-algo');
      if (!transmissionId || !transmissionTime || !signature || !certUrl || !algorithm) {
        throw invalid('missing PayPal transmission headers');
      }
      if (algorithm !== 'SHA256withRSA') throw invalid(`unsupported signing algorithm ${algorithm}`);

      const sentAt = ISO_TIME.test(transmissionTime) ? Date.parse(transmissionTime) : Number.NaN;
      if (Number.isNaN(sentAt)) throw invalid('unreadable transmission time');
      const now = options.clock.now().getTime();
      if (sentAt < now - MAX_AGE_MS) throw invalid('transmission time too old');
      if (sentAt > now + MAX_AHEAD_MS) throw invalid('transmission time in the future');

      if (!certificateUrlAllowed(certUrl, allowedOrigin)) throw invalid('certificate URL not trusted');
      let certificate: CachedCertificate;
      try {
        certificate = await certificateFor(certUrl);
      } catch (error) {
        throw invalid('certificate could not be loaded', error);
      }
      if (now < certificate.validFrom || now > certificate.validTo)
        throw invalid('certificate not valid now');

      const message = `${transmissionId}|${transmissionTime}|${options.webhookId}|${crc32(request.rawBody)}`;
      const signed = verifySignature(
        'sha256',
        Buffer.from(message, 'utf8'),
        certificate.publicKey,
        Buffer.from(signature, 'base64'),
      );
      if (!signed) throw invalid('signature does not match');

      let event: unknown;
      try {
        event = JSON.parse(request.rawBody.toString('utf8'));
      } catch (error) {
        throw invalid('body is not JSON', error);
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        throw invalid('body is not an event object');
      }
      return event as Record<string, unknown>;
    },
  };
}

/** CRC-32 (IEEE) as PayPal computes it, unsigned. node:zlib has it from Node 22.2. */
export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
  return native ? native(data) >>> 0 : crc32Portable(data);
}

/** The same CRC-32 for runtimes without zlib.crc32. */
export function crc32Portable(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, index) => {
  let value = index;
  for (let bit = 0; bit < 8; bit++) value = value & 1 ? 0xedb88320 ^ (value >>> 1) : value >>> 1;
  return value >>> 0;
});

function certificateUrlAllowed(raw: string, allowedOrigin: string | null): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (allowedOrigin !== null) return url.origin === allowedOrigin;
  return url.protocol === 'https:' && url.port === '' && url.hostname.endsWith('.paypal.com');
}

function parseCertificate(pem: string): CachedCertificate {
  const certificate = new X509Certificate(pem);
  const publicKey = certificate.publicKey;
  if (publicKey.asymmetricKeyType !== 'rsa') throw new Error('PayPal certificate key is not RSA');
  return {
    publicKey,
    validFrom: Date.parse(certificate.validFrom),
    validTo: Date.parse(certificate.validTo),
  };
}

async function fetchCertificateOverHttps(url: string): Promise<string> {
  // No redirects: the host check above must hold for the URL actually read.
  const response = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(CERTIFICATE_FETCH_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`certificate fetch answered ${response.status}`);
  const text = await response.text();
  if (text.length > CERTIFICATE_MAX_BYTES) throw new Error('certificate too large');
  return text;
}

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim() || undefined;
}

function invalid(reason: string, cause?: unknown): AppError {
  return new AppError('webhook_signature_invalid', `PayPal webhook rejected: ${reason}`, {
    details: { reason },
    ...(cause === undefined ? {} : { cause }),
  });
}
