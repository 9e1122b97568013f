import type { Clock } from '../../../platform/clock/clock.ts';
import { AppError } from '../../../platform/errors/index.ts';
// For its registerErrorCodes: the codes thrown here map to their HTTP statuses.
import './payment-provider.port.ts';

export interface PayPalAccessToken {
  readonly accessToken: string;
  /** Epoch ms by the injected clock. */
  readonly expiresAt: number;
}

/** The few PayPal REST calls made with plain fetch (the SDK has no webhooks API). */
export interface PayPalRest {
  readonly baseUrl: string;
  /** A client-credentials token, cached until shortly before it expires; shared with the SDK. */
  accessToken(): Promise<PayPalAccessToken>;
  /** Drops the cached token if it is this one (PayPal answered 401 to it: revoked or expired early). */
  forget(accessToken: string): void;
  /** GET with the bearer token. `pathOrUrl` may be absolute but must stay on `baseUrl`'s origin. */
  getJson(pathOrUrl: string, operation: string): Promise<Record<string, unknown>>;
}

const TIMEOUT_MS = 15_000;
// Renew a little early so a token never expires between being handed out and reaching PayPal.
const EXPIRY_MARGIN_MS = 60_000;

export function createPayPalRest(options: {
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clock: Clock;
}): PayPalRest {
  const base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
  let cached: PayPalAccessToken | null = null;
  let pending: Promise<PayPalAccessToken> | null = null;

  async function fetchToken(): Promise<PayPalAccessToken> {
    const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64');
    const response = await call('oauth2_token', new URL('v1/oauth2/token', base), {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic}`,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: 'grant_type=client_credentials',
    });
    const accessToken = response.access_token;
    const expiresIn = Number(response.expires_in);
    if (typeof accessToken !== 'string' || !Number.isFinite(expiresIn)) {
      throw new AppError('payment_provider_error', 'PayPal returned no usable access token', {
        details: { operation: 'oauth2_token' },
      });
    }
    return { accessToken, expiresAt: options.clock.now().getTime() + expiresIn * 1000 };
  }

  async function accessToken(): Promise<PayPalAccessToken> {
    if (cached && cached.expiresAt - EXPIRY_MARGIN_MS > options.clock.now().getTime()) return cached;
    // Concurrent callers share one token request.
    pending ??= fetchToken()
      .then((token) => {
        cached = token;
        return token;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  }

  function forget(accessToken: string): void {
    if (cached?.accessToken === accessToken) cached = null;
  }

  return {
    baseUrl: base.href.replace(/\/$/, ''),
    accessToken,
    forget,
    async getJson(pathOrUrl, operation) {
      const url = new URL(pathOrUrl.replace(/^\//, ''), base);
      // Next-page links come from the response; the bearer token goes nowhere but PayPal.
      if (url.origin !== base.origin) {
        throw new AppError('payment_provider_error', `PayPal ${operation}: link leaves the API origin`, {
          details: { operation },
        });
      }
      const get = (accessToken: string) =>
        call(operation, url, {
          method: 'GET',
          headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        });
      const token = await accessToken();
      try {
        return await get(token.accessToken);
      } catch (error) {
        if (!(error instanceof AppError && error.details?.status === 401)) throw error;
        // A token PayPal no longer takes: one retry with a fresh one.
        forget(token.accessToken);
        return get((await accessToken()).accessToken);
      }
    },
  };
}

async function call(operation: string, url: URL, init: RequestInit): Promise<Record<string, unknown>> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new AppError('payment_provider_error', `PayPal ${operation} failed: unreachable`, {
      details: { operation, reason: error instanceof Error ? error.message : String(error) },
    });
  }
  const raw = await response.text();
  let body: unknown = null;
  try {
    body = raw ? JSON.parse(raw) : null;
  } catch {
    body = null;
  }
  const json =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  if (!response.ok) {
    // PayPal's REST errors: { name, message, debug_id, details[] }; OAuth errors: { error, error_description }.
    const name =
      typeof json.name === 'string' ? json.name : typeof json.error === 'string' ? json.error : null;
    throw new AppError('payment_provider_error', `PayPal ${operation} failed: ${name ?? response.status}`, {
      details: {
        operation,
        status: response.status,
        name,
        debugId: typeof json.debug_id === 'string' ? json.debug_id : null,
      },
    });
  }
  return json;
}
