/**
 * Stable error codes and the HTTP status each maps to. Clients branch on `code`, never on
 * `message`; a code, once shipped, keeps its meaning. Modules add theirs with `registerErrorCodes`.
 */
export const platformErrorCodes = {
  validation_failed: 400,
  invalid_json: 400,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  email_not_verified: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
  shutting_down: 503,
} as const satisfies Record<string, number>;

export type PlatformErrorCode = keyof typeof platformErrorCodes;

const registry = new Map<string, number>(Object.entries(platformErrorCodes));

/** Lets a module declare its own codes (e.g. `email_not_verified: 403`) once, at import time. */
export function registerErrorCodes(codes: Record<string, number>): void {
  for (const [code, status] of Object.entries(codes)) {
    const existing = registry.get(code);
    if (existing !== undefined && existing !== status) {
      throw new Error(`Error code ${code} is already registered with status ${existing}`);
    }
    registry.set(code, status);
  }
}

export function statusForCode(code: string): number {
  return registry.get(code) ?? 500;
}

export function listErrorCodes(): ReadonlyMap<string, number> {
  return registry;
}
