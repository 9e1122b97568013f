import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../../../platform/errors/index.ts';

/**
 * The local provider signs its webhooks the way Stripe does (`t=<unix>,v1=<hex HMAC-SHA256 of
 * "t.body">`), with a key derived from APP_SECRET for this purpose only. Verification is over the
 * raw bytes, refuses old and future timestamps, and compares in constant time.
 */
export const LOCAL_SIGNATURE_HEADER = 'caravan-signature';

export function localWebhookKey(appSecret: string): Buffer {
  return createHmac('sha256', appSecret).update('caravan:local-payments:webhook').digest();
}

export function signLocalWebhook(key: Buffer, body: string, timestampSeconds: number): string {
  const mac = createHmac('sha256', key).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${mac}`;
}

export function verifyLocalWebhook(
  key: Buffer,
  rawBody: Buffer,
  header: string | string[] | undefined,
  options: { nowSeconds: number; toleranceSeconds: number; futureSkewSeconds: number },
): void {
  const invalid = (why: string) => new AppError('webhook_signature_invalid', `Webhook refused: ${why}`);
  if (typeof header !== 'string' || header.length === 0) throw invalid('no signature');
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const [name, value] = item.split('=', 2);
    if (!name || value === undefined) continue;
    parts.set(name.trim(), [...(parts.get(name.trim()) ?? []), value.trim()]);
  }
  const timestamp = Number(parts.get('t')?.[0]);
  if (!Number.isInteger(timestamp)) throw invalid('no timestamp');
  if (timestamp < options.nowSeconds - options.toleranceSeconds) throw invalid('timestamp too old');
  if (timestamp > options.nowSeconds + options.futureSkewSeconds) throw invalid('timestamp in the future');
  const expected = createHmac('sha256', key).update(`${timestamp}.`).update(rawBody).digest();
  const matches = (parts.get('v1') ?? []).some((candidate) => {
    const given = Buffer.from(candidate, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw invalid('signature mismatch');
}
