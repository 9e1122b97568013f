import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback S3 that speaks enough of the REST wire format (path-style addressing) for the storage
 * adapter: PutObject, GetObject (with Range and response-* overrides), HeadObject, DeleteObject, with
 * S3's XML error bodies. Every request must carry a valid SigV4 signature — in the Authorization header
 * or as a presigned query string — so tests exercise real signing, expiry and signed Content-Type.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-authenticating-requests.html
 */
export interface FakeS3Object {
  readonly body: Buffer;
  readonly contentType: string;
  readonly etag: string;
  readonly lastModified: Date;
}

export interface FakeS3 {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Keyed by object key; tests may read or seed it directly. */
  readonly objects: Map<string, FakeS3Object>;
  close(): Promise<void>;
}

export interface FakeS3Options {
  readonly bucket?: string;
  readonly region?: string;
  readonly now?: () => Date;
}

class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_PRESIGNED_SECONDS = 7 * 24 * 3600;
const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const escapeUri = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const xmlEscape = (value: string) =>
  value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

/** `20240102T030405Z` → Date. */
function parseAmzDate(value: string | undefined): Date | null {
  const m = value?.match(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/);
  if (!m) return null;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

interface SignatureParts {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string | undefined;
  readonly payloadHash: string;
}

function canonicalQuery(search: URLSearchParams): string {
  return [...search.entries()]
    .filter(([name]) => name !== 'X-Amz-Signature')
    .map(([name, value]) => `${escapeUri(name)}=${escapeUri(value)}`)
    .sort()
    .join('&');
}

function canonicalHeaders(req: IncomingMessage, signedHeaders: string): string {
  return signedHeaders
    .split(';')
    .map((name) => {
      const raw = req.headers[name];
      const value = Array.isArray(raw) ? raw.join(',') : (raw ?? '');
      return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
}

export async function startFakeS3(options: FakeS3Options = {}): Promise<FakeS3> {
  const bucket = options.bucket ?? 'caravan-test';
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? (() => new Date());
  const accessKeyId = `AKIAFAKE${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const objects = new Map<string, FakeS3Object>();

  function verify(req: IncomingMessage, url: URL, parts: SignatureParts): void {
    const [keyId, date, scopeRegion, service, terminator] = parts.credential.split('/');
    if (keyId !== accessKeyId) {
      throw new S3Error(
        403,
        'InvalidAccessKeyId',
        'The AWS Access Key Id you provided does not exist in our records.',
      );
    }
    if (scopeRegion !== region || service !== 's3' || terminator !== 'aws4_request' || !date) {
      throw new S3Error(
        400,
        'AuthorizationHeaderMalformed',
        `Credential scope is wrong; expecting ${region}/s3`,
      );
    }
    if (!parts.amzDate?.startsWith(date)) {
      throw new S3Error(403, 'SignatureDoesNotMatch', 'X-Amz-Date does not match the credential date');
    }
    // S3 uses the path exactly as sent (no normalisation, no re-encoding) in the canonical request.
    const canonicalRequest = [
      req.method,
      url.pathname,
      canonicalQuery(url.searchParams),
      canonicalHeaders(req, parts.signedHeaders),
      parts.signedHeaders,
      parts.payloadHash,
    ].join('\n');
    const scope = `${date}/${region}/s3/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', parts.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretAccessKey}`, date), region), 's3'), 'aws4_request');
    const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
    const given = Buffer.from(parts.signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new S3Error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
  }

  /** Authenticates by query string (presigned URL) or Authorization header; anonymous is refused. */
  function authenticate(req: IncomingMessage, url: URL): { payloadHash: string } {
    const q = url.searchParams;
    if (q.has('X-Amz-Signature')) {
      if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'Unsupported X-Amz-Algorithm');
      }
      const signedAt = parseAmzDate(q.get('X-Amz-Date') ?? undefined);
      const expires = Number(q.get('X-Amz-Expires'));
      if (!signedAt || !Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_SECONDS) {
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Date or X-Amz-Expires is invalid');
      }
      const payloadHash = q.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
      verify(req, url, {
        credential: q.get('X-Amz-Credential') ?? '',
        signedHeaders: q.get('X-Amz-SignedHeaders') ?? '',
        signature: q.get('X-Amz-Signature') ?? '',
        amzDate: q.get('X-Amz-Date') ?? undefined,
        payloadHash,
      });
      // Checked after the signature, as S3 does: a tampered expiry reads as a bad signature.
      if (now().getTime() > signedAt.getTime() + expires * 1000) {
        throw new S3Error(403, 'AccessDenied', 'Request has expired');
      }
      return { payloadHash };
    }
    const header = req.headers.authorization;
    const m = header?.match(
      /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$/,
    );
    if (!m) throw new S3Error(403, 'AccessDenied', 'Access Denied');
    const amzDate = req.headers['x-amz-date'] as string | undefined;
    const signedAt = parseAmzDate(amzDate);
    if (!signedAt || Math.abs(now().getTime() - signedAt.getTime()) > MAX_CLOCK_SKEW_MS) {
      throw new S3Error(
        403,
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
    }
    const payloadHash = (req.headers['x-amz-content-sha256'] as string | undefined) ?? '';
    if (!payloadHash)
      throw new S3Error(400, 'InvalidRequest', 'Missing required header x-amz-content-sha256');
    verify(req, url, { credential: m[1]!, signedHeaders: m[2]!, signature: m[3]!, amzDate, payloadHash });
    return { payloadHash };
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  function sendError(
    res: ServerResponse,
    method: string | undefined,
    error: S3Error,
    resource: string,
  ): void {
    res.statusCode = error.status;
    res.setHeader('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
    if (method === 'HEAD') {
      res.end(); // HEAD errors carry no body; SDK clients only see the status
      return;
    }
    const xml =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${error.code}</Code><Message>${xmlEscape(error.message)}</Message>` +
      `<Resource>${xmlEscape(resource)}</Resource></Error>`;
    res.setHeader('content-type', 'application/xml');
    res.setHeader('content-length', Buffer.byteLength(xml));
    res.end(xml);
  }

  function objectHeaders(res: ServerResponse, object: FakeS3Object, url: URL): void {
    res.setHeader('etag', object.etag);
    res.setHeader('last-modified', object.lastModified.toUTCString());
    res.setHeader('accept-ranges', 'bytes');
    // Presigned GETs may override response headers (ResponseContentDisposition and friends).
    res.setHeader('content-type', url.searchParams.get('response-content-type') ?? object.contentType);
    const disposition = url.searchParams.get('response-content-disposition');
    if (disposition) res.setHeader('content-disposition', disposition);
  }

  /** `bytes=a-b`, `bytes=a-`, `bytes=-n` → inclusive range, or null when unsatisfiable. */
  function parseRange(header: string, size: number): [number, number] | null | undefined {
    const m = header.match(/^bytes=(\d*)-(\d*)$/);
    if (!m || (m[1] === '' && m[2] === '')) return undefined; // malformed: S3 ignores it
    if (m[1] === '') {
      const suffix = Number(m[2]);
      return suffix === 0 || size === 0 ? null : [Math.max(0, size - suffix), size - 1];
    }
    const start = Number(m[1]);
    if (start >= size) return null;
    const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    return end < start ? undefined : [start, end];
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake-s3');
    const [, bucketName = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const resource = decodeURIComponent(url.pathname);
    try {
      const { payloadHash } = authenticate(req, url);
      if (bucketName !== bucket)
        throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist');
      if (!key) throw new S3Error(501, 'NotImplemented', 'Bucket operations are not implemented by the fake');

      if (req.method === 'PUT') {
        // Real S3 refuses uploads without a length (no chunked PutObject).
        if (req.headers['content-length'] === undefined) {
          throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
        }
        const body = await readBody(req);
        if (/^[0-9a-f]{64}$/.test(payloadHash) && sha256Hex(body) !== payloadHash) {
          throw new S3Error(
            400,
            'XAmzContentSHA256Mismatch',
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
          );
        }
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        const contentType = req.headers['content-type'] ?? 'binary/octet-stream';
        objects.set(key, { body, contentType, etag, lastModified: now() });
        res.setHeader('etag', etag);
        res.end();
        return;
      }
      if (req.method === 'DELETE') {
        objects.delete(key);
        res.statusCode = 204;
        res.end();
        return;
      }
      if (req.method === 'GET' || req.method === 'HEAD') {
        const object = objects.get(key);
        if (!object) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
        objectHeaders(res, object, url);
        let body = object.body;
        const rangeHeader = req.headers.range;
        if (rangeHeader) {
          const range = parseRange(rangeHeader, body.length);
          if (range === null)
            throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable');
          if (range) {
            res.statusCode = 206;
            res.setHeader('content-range', `bytes ${range[0]}-${range[1]}/${body.length}`);
            body = body.subarray(range[0], range[1] + 1);
          }
        }
        res.setHeader('content-length', body.length);
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      throw new S3Error(
        405,
        'MethodNotAllowed',
        'The specified method is not allowed against this resource.',
      );
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      req.resume(); // discard any unread body so the connection stays usable
      sendError(res, req.method, error, resource);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      sendError(res, req.method, new S3Error(500, 'InternalError', String(error)), req.url ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region,
    accessKeyId,
    secretAccessKey,
    objects,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections(); // keep-alive sockets from the SDK's agent would hold close() open
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
