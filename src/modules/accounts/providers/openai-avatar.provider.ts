import { createHash } from 'node:crypto';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import { AvatarGenerationError, type AvatarGenerator, type AvatarRequest } from './avatar-generator.port.ts';

export interface OpenAiAvatarOptions {
  readonly apiKey: string;
  /** Defaults to OpenAI's; tests point it at a loopback fake (`<origin>/v1`). */
  readonly baseUrl?: string | undefined;
  readonly model: string;
  /** Image models take tens of seconds; the job's expiry must stay above this. */
  readonly timeoutMs?: number;
}

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_TIMEOUT_MS = 120_000;
/** A URL response (legacy models) is downloaded; anything bigger than this is not an avatar. */
const MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * The user's text goes inside a fixed frame so what comes back is an avatar (square, one subject,
 * no text) whatever the style says. The vendor's moderation still judges the whole prompt.
 */
export function avatarPrompt(style: string): string {
  return (
    'A friendly, tasteful profile avatar: one subject, centered, head and shoulders or a mascot, ' +
    `on a simple background, no text, no letters, no logos, no watermark. Style: ${style}`
  );
}

export function createOpenAiAvatarGenerator(options: OpenAiAvatarOptions): AvatarGenerator {
  const client = new OpenAI({
    apiKey: options.apiKey,
    // Given explicitly: otherwise the SDK reads OPENAI_BASE_URL / OPENAI_ORG_ID / OPENAI_PROJECT_ID
    // from process.env, and config is the only reader of the environment.
    baseURL: options.baseUrl ?? DEFAULT_BASE_URL,
    organization: null,
    project: null,
    // One quick retry inside the call rides out a blip (the SDK backs off and honours Retry-After
    // on 408/409/429/5xx and connection errors). Longer outages are the job's retries, each a
    // fresh attempt that ends in a final status the user sees.
    maxRetries: 1,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });

  return {
    kind: 'openai',
    async generate(request: AvatarRequest) {
      let response: OpenAI.ImagesResponse;
      try {
        response = await client.images.generate({
          model: options.model,
          prompt: avatarPrompt(request.prompt),
          n: 1,
          size: '1024x1024',
          // OpenAI asks for a stable, non-identifying end-user id for abuse monitoring.
          safety_identifier: createHash('sha256').update(`caravan-user:${request.userId}`).digest('hex'),
          // GPT image models only: the port promises PNG. Legacy models reject the parameter.
          ...(options.model.startsWith('dall-e') ? {} : { output_format: 'png' as const }),
        });
      } catch (error) {
        throw toGenerationError(error);
      }
      const image = response.data?.[0];
      // A 2xx without an image is a failure, never an empty success (moderation can look like this).
      if (image?.b64_json)
        return { bytes: asPng(Buffer.from(image.b64_json, 'base64')), contentType: 'image/png' };
      if (image?.url) return { bytes: asPng(await download(image.url)), contentType: 'image/png' };
      throw new AvatarGenerationError('bad_response', false, { message: 'the response held no image' });
    },
  };
}

function asPng(bytes: Buffer): Buffer {
  if (
    bytes.length <= PNG_SIGNATURE.length ||
    !bytes.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)
  ) {
    // The same request would give the same format again: not worth a retry.
    throw new AvatarGenerationError('bad_response', true, { message: 'the image is not a PNG' });
  }
  return bytes;
}

async function download(url: string): Promise<Buffer> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(60_000), redirect: 'follow' });
  } catch (cause) {
    throw new AvatarGenerationError('network_error', false, {
      message: 'could not download the image',
      cause,
    });
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new AvatarGenerationError('unavailable', false, {
      message: `image download answered ${response.status}`,
      status: response.status,
    });
  }
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_DOWNLOAD_BYTES) {
    await response.body?.cancel();
    throw new AvatarGenerationError('bad_response', true, { message: 'the image is too large' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    if (size > MAX_DOWNLOAD_BYTES) {
      throw new AvatarGenerationError('bad_response', true, { message: 'the image is too large' });
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

// Codes OpenAI uses when its moderation refuses an image prompt: `content_policy_violation`
// (DALL·E) and `moderation_blocked` (GPT image models).
const CONTENT_CODES = new Set(['content_policy_violation', 'moderation_blocked']);

/**
 * Maps the SDK's errors to the port's vocabulary. Permanent: content refusals and other 400s, bad
 * credentials or a model this key cannot use (401/403/404), an exhausted billing quota — retrying
 * seconds later cannot help, and the user should hear so now. Retried: 408/409/429, 5xx, network.
 */
export function toGenerationError(error: unknown): AvatarGenerationError {
  if (error instanceof AvatarGenerationError) return error;
  if (error instanceof APIConnectionError) {
    return new AvatarGenerationError('network_error', false, { message: error.message, cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status ?? null;
    const details = { message: error.message, status, cause: error };
    const code = error.code ?? '';
    if (CONTENT_CODES.has(code)) return new AvatarGenerationError('content_rejected', true, details);
    if (status === 429 && code === 'insufficient_quota') {
      return new AvatarGenerationError('quota_exhausted', true, details);
    }
    if (status === 401 || status === 403) return new AvatarGenerationError('auth_failed', true, details);
    if (status === 408 || status === 409) return new AvatarGenerationError('unavailable', false, details);
    if (status === 429) return new AvatarGenerationError('rate_limited', false, details);
    if (status !== null && status >= 400 && status < 500) {
      return new AvatarGenerationError('invalid_request', true, details);
    }
    return new AvatarGenerationError('unavailable', false, details);
  }
  return new AvatarGenerationError('unavailable', false, { message: String(error), cause: error });
}
