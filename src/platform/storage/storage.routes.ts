import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../errors/index.ts';
import { access } from '../http/access.ts';
import { assertSize, contentDisposition, normalizeContentType } from './content-checks.ts';
import { isLocalStorage } from './local.storage.ts';
import type { StoragePort } from './storage.port.ts';
import { assertValidKey } from './storage-key.ts';

// Loose shapes on purpose: a malformed signature must answer 403 storage_signature_invalid, not a 400
// from the schema, so only presence and sane lengths are checked here; the MAC decides the rest.
const KeyParams = Type.Object({ '*': Type.String({ minLength: 1, maxLength: 1024 }) });
const Expires = Type.String({ pattern: '^[0-9]{1,12}$' });
const Signature = Type.String({ minLength: 1, maxLength: 128 });
const UploadQuery = Type.Object({
  expires: Expires,
  ct: Type.String({ minLength: 1, maxLength: 255 }),
  max: Type.String({ pattern: '^[0-9]{1,16}$' }),
  sig: Signature,
});
const DownloadQuery = Type.Object({
  expires: Expires,
  filename: Type.Optional(Type.String({ maxLength: 255 })),
  sig: Signature,
});
const UploadResult = Type.Object({ key: Type.String(), size: Type.Integer({ minimum: 0 }) });

const signedUrl = { access: access.public('signed URL') };

/**
 * Serves the local adapter's signed URLs. A plain (non fastify-plugin) plugin on purpose: it is
 * encapsulated, so replacing the body parsers here leaves JSON parsing everywhere else untouched.
 * With the S3 driver the client talks to S3 directly and nothing is registered.
 */
export const storageRoutes: FastifyPluginAsync<{ storage: StoragePort }> = async (instance, { storage }) => {
  if (!isLocalStorage(storage)) return;
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  // Hand the raw request stream to the handler: uploads go to disk as they arrive, never into memory,
  // and the global bodyLimit (sized for JSON) does not apply — the signed ceiling does.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.put(
    '/storage/upload/*',
    {
      schema: { params: KeyParams, querystring: UploadQuery, response: { 200: UploadResult } },
      config: signedUrl,
    },
    async (request, reply) => {
      try {
        const key = request.params['*'];
        assertValidKey(key);
        const grant = storage.urls.verifyUpload(key, request.query);
        const sent = request.headers['content-type'];
        if (sent === undefined || normalizeContentType(sent) !== normalizeContentType(grant.contentType)) {
          throw new AppError(
            'unsupported_media_type',
            'Content-Type differs from the one the URL was signed for',
            {
              details: { expected: grant.contentType, received: sent ?? null },
            },
          );
        }
        // Refuse an honest oversize upload before reading a byte; the limiter inside receiveUpload
        // catches a chunked or lying one while it streams.
        const declared = request.headers['content-length'];
        if (declared !== undefined) assertSize(Number(declared), grant.maxBytes);
        const { size } = await storage.receiveUpload(grant, request.body as Readable);
        return { key, size };
      } catch (error) {
        // Any refusal before the body was read: close rather than drain what the client keeps sending.
        if (!request.raw.complete) reply.header('connection', 'close');
        throw error;
      }
    },
  );

  app.get(
    '/storage/download/*',
    {
      // An automatic HEAD would open the file only to throw the stream away.
      exposeHeadRoute: false,
      schema: { params: KeyParams, querystring: DownloadQuery },
      config: signedUrl,
    },
    async (request, reply) => {
      const key = request.params['*'];
      assertValidKey(key);
      const grant = storage.urls.verifyDownload(key, request.query);
      const object = await storage.get(key);
      const secondsLeft = Math.max(
        0,
        Math.floor((grant.expiresAt.getTime() - storage.now().getTime()) / 1000),
      );
      reply
        .header('content-type', object.contentType)
        .header('content-length', object.size)
        // User-supplied bytes served from our own origin: never sniffed, never run as a page.
        .header('x-content-type-options', 'nosniff')
        .header('content-security-policy', "sandbox; default-src 'none'")
        .header('cache-control', `private, max-age=${secondsLeft}`)
        // The signed URL is the capability, as with S3: let pages on other origins embed it
        // (helmet's global default is same-origin).
        .header('cross-origin-resource-policy', 'cross-origin');
      if (grant.filename) reply.header('content-disposition', contentDisposition(grant.filename));
      return reply.send(object.body);
    },
  );
};

/** `registerStorageRoutes(app, storage)` — call once from buildApp, outside any route prefix. */
export function registerStorageRoutes<
  Server extends RawServerBase,
  Logger extends FastifyBaseLogger,
  Provider extends FastifyTypeProvider,
>(
  // Generic so an app built with a pino logger instance and the TypeBox provider is accepted as is.
  app: FastifyInstance<
    Server,
    RawRequestDefaultExpression<Server>,
    RawReplyDefaultExpression<Server>,
    Logger,
    Provider
  >,
  storage: StoragePort,
): void {
  app.register(storageRoutes, { storage });
}
