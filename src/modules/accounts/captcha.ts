import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../platform/config/config.ts';
import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';

// Also declared by the accounts context; repeated so this file stands on its own.
registerErrorCodes({ captcha_required: 400, captcha_failed: 400, captcha_unavailable: 503 });

export interface CaptchaVerifier {
  /** False without a Turnstile secret: `verify` then accepts anything (development, tests). */
  readonly enabled: boolean;
  /**
   * Resolves when Cloudflare accepts the token; throws `captcha_required` (no token),
   * `captcha_failed` (refused, with Cloudflare's `error-codes` in details) or `captcha_unavailable`
   * (Cloudflare unreachable, slow or answering garbage: we fail closed).
   */
  verify(token: string | undefined, remoteIp?: string): Promise<void>;
}

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** The header Cloudflare's own examples post the token in (and the widget's hidden field name). */
export const CAPTCHA_HEADER = 'cf-turnstile-response';
/** Tokens are at most 2048 characters (Cloudflare's validation guide); a longer one is forged. */
const MAX_TOKEN_LENGTH = 2048;
const TIMEOUT_MS = 5000;
const ATTEMPTS = 2;

interface SiteverifyAnswer {
  readonly success: boolean;
  readonly 'error-codes'?: unknown;
}

/**
 * Cloudflare Turnstile siteverify
 * (https://developers.cloudflare.com/turnstile/get-started/server-side-validation/).
 * A token validates once; a retry after a lost answer would read as `timeout-or-duplicate`, so every
 * attempt for one token carries the same `idempotency_key`, which makes Cloudflare repeat its verdict.
 */
export function createCaptchaVerifier(
  turnstile: Config['auth']['turnstile'],
  fetchImpl: FetchLike = fetch,
): CaptchaVerifier {
  const { secret, verifyUrl } = turnstile;
  if (!secret) return { enabled: false, verify: async () => {} };

  async function siteverify(form: URLSearchParams, signal: AbortSignal): Promise<SiteverifyAnswer | null> {
    try {
      const response = await fetchImpl(verifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal,
      });
      // Cloudflare answers verdicts with JSON; a 5xx (or a proxy's HTML) is no verdict.
      if (response.status >= 500) {
        await response.body?.cancel();
        return null;
      }
      const answer = (await response.json()) as unknown;
      if (
        typeof answer !== 'object' ||
        answer === null ||
        typeof (answer as SiteverifyAnswer).success !== 'boolean'
      ) {
        return null;
      }
      return answer as SiteverifyAnswer;
    } catch {
      // Network error, timeout, or a body that is not JSON (an interstitial page).
      return null;
    }
  }

  return {
    enabled: true,
    async verify(token, remoteIp) {
      if (!token) throw new AppError('captcha_required', 'Complete the captcha challenge');
      if (token.length > MAX_TOKEN_LENGTH) {
        throw new AppError('captcha_failed', 'The captcha challenge was not passed', {
          details: { errorCodes: ['invalid-input-response'] },
        });
      }
      const form = new URLSearchParams({ secret, response: token, idempotency_key: randomUUID() });
      if (remoteIp) form.set('remoteip', remoteIp);
      const signal = AbortSignal.timeout(TIMEOUT_MS);
      for (let attempt = 1; attempt <= ATTEMPTS && !signal.aborted; attempt += 1) {
        const answer = await siteverify(form, signal);
        if (!answer) continue;
        const errorCodes = Array.isArray(answer['error-codes'])
          ? answer['error-codes'].filter((code): code is string => typeof code === 'string')
          : [];
        if (answer.success) return;
        // Cloudflare's own failure: its guide says retry, which the idempotency key makes safe.
        if (errorCodes.includes('internal-error')) continue;
        throw new AppError('captcha_failed', 'The captcha challenge was not passed', {
          details: { errorCodes },
        });
      }
      throw new AppError('captcha_unavailable', 'The captcha service is unavailable; try again shortly', {
        headers: { 'retry-after': '5' },
      });
    },
  };
}

/** The Turnstile token of a request: body field `captchaToken`, else the `cf-turnstile-response` header. */
export function captchaTokenFrom(request: FastifyRequest): string | undefined {
  const body = request.body;
  if (typeof body === 'object' && body !== null && 'captchaToken' in body) {
    const value = (body as { captchaToken?: unknown }).captchaToken;
    if (typeof value === 'string' && value !== '') return value;
  }
  const header = request.headers[CAPTCHA_HEADER];
  const value = Array.isArray(header) ? header[0] : header;
  return value || undefined;
}
