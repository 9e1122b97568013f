import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeImageRequest {
  readonly model: string | undefined;
  readonly prompt: string;
  /** Every body field as sent, for assertions on what the SDK put on the wire. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly authorization: string | undefined;
}

export interface FakeOpenAi {
  /** For `OPENAI_BASE_URL` (the SDK's `baseURL`): `<origin>/v1`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Accepted generations, in order (refused ones are not listed; see `attempts`). */
  readonly images: FakeImageRequest[];
  /** Every request to the generations endpoint, including refused and failed ones. */
  readonly attempts: FakeImageRequest[];
  /** The PNG every generation returns. */
  readonly png: Buffer;
  /** The next `times` requests fail with this status (500 → `server_error`, 429 → `rate_limit_exceeded`). */
  failNext(status: number, times?: number): void;
  /** `b64_json` (GPT image models, the default) or `url` (legacy DALL·E answers, served by the fake). */
  respondWith(format: 'b64_json' | 'url'): void;
  /**
   * Holds every answer (requests are still recorded on arrival) until the returned function is
   * called: a generation stays in progress for exactly as long as a test needs.
   */
  hold(): () => void;
  close(): Promise<void>;
}

// A 1×1 PNG: the smallest image that is still a valid PNG (signature, IHDR, IDAT, IEND).
const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);

/**
 * OpenAI's Images API on loopback, speaking its wire format for the real `openai` SDK:
 * `POST /v1/images/generations` with Bearer auth, OpenAI's `{ error: { message, type, param, code } }`
 * bodies, a content-policy refusal for any prompt containing "forbidden", and injectable failures.
 */
export async function startFakeOpenAi(options: { apiKey?: string } = {}): Promise<FakeOpenAi> {
  const apiKey = options.apiKey ?? 'sk-test';
  const images: FakeImageRequest[] = [];
  const attempts: FakeImageRequest[] = [];
  const files = new Map<string, Buffer>();
  let failures: { status: number; remaining: number } | null = null;
  let format: 'b64_json' | 'url' = 'b64_json';
  let origin = '';
  let gate: Promise<void> | null = null;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let reply: Reply;
      try {
        reply = handle(request, Buffer.concat(chunks).toString('utf8'));
      } catch (error) {
        // A bug in the fake should fail the test now, not hang it until the SDK's timeout.
        reply = openAiError(500, 'server_error', null, `Fake OpenAI crashed: ${String(error)}`);
      }
      void (gate ?? Promise.resolve()).then(() => send(reply));
    });

    function send(reply: Reply) {
      if (Buffer.isBuffer(reply.body)) {
        response.writeHead(reply.status, {
          'content-type': 'image/png',
          'content-length': reply.body.length,
        });
        response.end(reply.body);
        return;
      }
      response.writeHead(reply.status, {
        'content-type': 'application/json',
        'x-request-id': `req_${randomUUID().replaceAll('-', '')}`,
      });
      response.end(JSON.stringify(reply.body));
    }
  });

  function handle(request: IncomingMessage, rawBody: string): Reply {
    const path = new URL(request.url ?? '/', 'http://fake').pathname;
    const file = /^\/files\/([0-9a-f-]+)\.png$/.exec(path);
    if (request.method === 'GET' && file) {
      const bytes = files.get(file[1]!);
      return bytes
        ? { status: 200, body: bytes }
        : openAiError(404, 'invalid_request_error', null, 'Not found');
    }
    if (request.method !== 'POST' || path !== '/v1/images/generations') {
      return openAiError(
        404,
        'invalid_request_error',
        'unknown_url',
        `Unknown request URL: ${request.method} ${path}.`,
      );
    }
    const authorization = request.headers.authorization;
    if (authorization !== `Bearer ${apiKey}`) {
      const shown = authorization?.replace(/^Bearer\s+/, '').slice(-4) ?? '';
      return openAiError(
        401,
        'invalid_request_error',
        'invalid_api_key',
        `Incorrect API key provided: ****${shown}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      );
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(rawBody) as Record<string, unknown>;
    } catch {
      return openAiError(
        400,
        'invalid_request_error',
        null,
        'We could not parse the JSON body of your request.',
      );
    }
    const prompt = typeof body.prompt === 'string' ? body.prompt : '';
    const seen: FakeImageRequest = {
      model: typeof body.model === 'string' ? body.model : undefined,
      prompt,
      body,
      authorization,
    };
    attempts.push(seen);
    if (failures && failures.remaining > 0) {
      failures.remaining -= 1;
      const { status } = failures;
      if (failures.remaining === 0) failures = null;
      return status === 429
        ? openAiError(429, 'requests', 'rate_limit_exceeded', 'Rate limit reached for images per minute.')
        : openAiError(status, 'server_error', null, 'The server had an error while processing your request.');
    }
    if (!prompt)
      return openAiError(
        400,
        'invalid_request_error',
        null,
        "Missing required parameter: 'prompt'.",
        'prompt',
      );
    if (body.n !== undefined && body.n !== 1) {
      return openAiError(
        400,
        'invalid_request_error',
        'invalid_value',
        'This fake only makes one image.',
        'n',
      );
    }
    if (/forbidden/i.test(prompt)) {
      return openAiError(
        400,
        'image_generation_user_error',
        'content_policy_violation',
        'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
      );
    }
    images.push(seen);
    const created = Math.floor(Date.now() / 1000);
    if (format === 'url') {
      const id = randomUUID();
      files.set(id, TINY_PNG);
      return {
        status: 200,
        body: { created, data: [{ url: `${origin}/files/${id}.png`, revised_prompt: prompt }] },
      };
    }
    return {
      status: 200,
      body: {
        created,
        background: 'opaque',
        data: [{ b64_json: TINY_PNG.toString('base64') }],
        output_format: 'png',
        quality: 'medium',
        size: '1024x1024',
        usage: {
          input_tokens: 50,
          input_tokens_details: { image_tokens: 0, text_tokens: 50 },
          output_tokens: 1056,
          total_tokens: 1106,
        },
      },
    };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  return {
    baseUrl: `${origin}/v1`,
    apiKey,
    images,
    attempts,
    png: TINY_PNG,
    failNext(status, times = 1) {
      failures = { status, remaining: times };
    },
    respondWith(next) {
      format = next;
    },
    hold() {
      let release = () => {};
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      return () => {
        gate = null;
        release();
      };
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

/** OpenAI's error body; the SDK reads `code`, `type` and `param` from it onto its APIError. */
function openAiError(
  status: number,
  type: string,
  code: string | null,
  message: string,
  param: string | null = null,
): Reply {
  return { status, body: { error: { message, type, param, code } } };
}
