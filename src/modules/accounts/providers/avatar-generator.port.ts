/**
 * The avatar generator port: turns a user's style description into image bytes. Two adapters:
 * `openai` (the Images API through the official SDK) and `local` (a deterministic SVG, so the flow
 * works offline and in development without a key).
 */
export interface AvatarRequest {
  /** The user's style description, already trimmed and whitespace-normalised (≤ 200 chars). */
  readonly prompt: string;
  readonly userId: string;
  /**
   * Stable for one (user, style): the local generator draws every shape and colour from it, so the
   * same request gives byte-identical output. OpenAI's Images API takes no seed and ignores it.
   */
  readonly seed: string;
  /** For the initials drawn by the local generator. Never sent to a vendor. */
  readonly displayName: string;
}

export interface GeneratedAvatar {
  readonly bytes: Buffer;
  readonly contentType: 'image/png' | 'image/svg+xml';
}

export interface AvatarGenerator {
  readonly kind: 'openai' | 'local';
  generate(request: AvatarRequest): Promise<GeneratedAvatar>;
}

export type AvatarGenerationErrorCode =
  /** The vendor's content policy refused the prompt or the image. */
  | 'content_rejected'
  /** The request itself was refused (unknown model, bad parameter): our configuration, not the user. */
  | 'invalid_request'
  | 'auth_failed'
  | 'quota_exhausted'
  | 'rate_limited'
  | 'unavailable'
  | 'network_error'
  /** The vendor answered 2xx without a usable image. */
  | 'bad_response';

/**
 * A failed generation in neutral terms. `permanent: true` makes the job runtime dead-letter the
 * job instead of retrying: the same request would fail the same way.
 */
export class AvatarGenerationError extends Error {
  readonly code: AvatarGenerationErrorCode;
  readonly permanent: boolean;
  /** The vendor's HTTP status, when it answered. */
  readonly status: number | null;

  constructor(
    code: AvatarGenerationErrorCode,
    permanent: boolean,
    details: { message: string; status?: number | null; cause?: unknown },
  ) {
    super(`Avatar generation failed (${code}): ${details.message}`, { cause: details.cause });
    this.name = 'AvatarGenerationError';
    this.code = code;
    this.permanent = permanent;
    this.status = details.status ?? null;
  }
}

export function isAvatarGenerationError(error: unknown): error is AvatarGenerationError {
  return error instanceof AvatarGenerationError;
}
