import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finished, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors/index.ts';
import {
  assertContentType,
  assertContentTypeSyntax,
  assertTtl,
  createSizeLimit,
  effectiveMaxBytes,
} from './content-checks.ts';
import { createUrlSigner, type UploadGrant, type UrlSigner } from './signed-url.ts';
import type { ObjectInfo, PresignedDownload, PresignedUpload, StoragePort } from './storage.port.ts';
import { assertValidKey, keyToUrlPath, resolveKeyPath } from './storage-key.ts';

export interface LocalStorageOptions {
  /** Usually `<dataDir>/storage`. */
  readonly root: string;
  /** Origin the signed URLs point at (config.server.publicUrl); routes live at /storage/…. */
  readonly publicUrl: string;
  readonly secret: string | undefined;
  readonly maxUploadBytes: number;
  readonly urlTtlSeconds: number;
  readonly now?: () => Date;
}

/** The local adapter plus what storage.routes.ts needs to serve its signed URLs. */
export interface LocalStorage extends StoragePort {
  readonly driver: 'local';
  readonly urls: UrlSigner;
  readonly now: () => Date;
  /** Stores a request body under a verified grant, enforcing the grant's ceiling while streaming. */
  receiveUpload(grant: UploadGrant, body: Readable): Promise<{ size: number }>;
}

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

interface Sidecar {
  readonly contentType: string;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A key cannot be both an object and a prefix on a file system (`a` and `a/b`); S3 allows it, we refuse. */
function isPrefixClash(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EEXIST' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'ERR_FS_EISDIR';
}

function notFound(key: string): AppError {
  return new AppError('not_found', 'The stored object was not found', { details: { key } });
}

/**
 * Layout: `objects/<key>` holds the bytes, `meta/<key>.json` the content type (a separate tree, so no
 * key can collide with a sidecar), `tmp/` the uploads in flight. Writes land in tmp/ and are renamed
 * into place — atomic on one file system — so a reader never sees half a file. The sidecar is renamed
 * first: the object only "exists" once its bytes are in place.
 */
export function createLocalStorage(options: LocalStorageOptions): LocalStorage {
  const root = path.resolve(options.root);
  const objectsDir = path.join(root, 'objects');
  const metaDir = path.join(root, 'meta');
  const tmpDir = path.join(root, 'tmp');
  const now = options.now ?? (() => new Date());
  const urls = createUrlSigner({ secret: options.secret, now });
  const publicUrl = options.publicUrl.replace(/\/$/, '');

  const objectPath = (key: string) => resolveKeyPath(objectsDir, key);
  const metaPath = (key: string) => `${resolveKeyPath(metaDir, key)}.json`;

  async function readContentType(key: string): Promise<string> {
    try {
      const sidecar = JSON.parse(await readFile(metaPath(key), 'utf8')) as Partial<Sidecar>;
      return typeof sidecar.contentType === 'string' ? sidecar.contentType : DEFAULT_CONTENT_TYPE;
    } catch (error) {
      if (isMissing(error)) return DEFAULT_CONTENT_TYPE;
      throw error;
    }
  }

  /**
   * Copies `source` into `file` through the size limit. The source is piped, not handed to pipeline(),
   * because pipeline would destroy an HTTP request on failure and with it the socket — the client would
   * see a reset instead of our 413.
   */
  async function receive(source: Readable, file: string, maxBytes: number): Promise<void> {
    const limit = createSizeLimit(maxBytes);
    const stopWatching = finished(source, (error) => {
      if (error) limit.destroy(error); // aborted upload: fail the write, the temp file is removed
    });
    source.pipe(limit);
    try {
      await pipeline(limit, createWriteStream(file, { flags: 'wx' }));
    } finally {
      stopWatching();
      source.unpipe(limit);
    }
  }

  async function write(
    key: string,
    body: Buffer | Uint8Array | Readable,
    contentType: string,
    maxBytes: number,
  ): Promise<{ size: number }> {
    const target = objectPath(key);
    const sidecar = metaPath(key);
    await mkdir(tmpDir, { recursive: true });
    const tmpBody = path.join(tmpDir, randomUUID());
    const tmpMeta = `${tmpBody}.json`;
    try {
      if (body instanceof Uint8Array) await writeFile(tmpBody, body, { flag: 'wx' });
      else await receive(body, tmpBody, maxBytes);
      const { size } = await stat(tmpBody);
      await writeFile(tmpMeta, JSON.stringify({ contentType } satisfies Sidecar));
      await mkdir(path.dirname(target), { recursive: true });
      await mkdir(path.dirname(sidecar), { recursive: true });
      await rename(tmpMeta, sidecar);
      await rename(tmpBody, target);
      return { size };
    } catch (error) {
      await Promise.all([rm(tmpBody, { force: true }), rm(tmpMeta, { force: true })]);
      if (isPrefixClash(error)) {
        throw new AppError('conflict', 'The key clashes with an existing key or prefix', {
          details: { key },
        });
      }
      throw error;
    }
  }

  async function head(key: string): Promise<ObjectInfo | null> {
    try {
      const info = await stat(objectPath(key));
      if (!info.isFile()) return null;
      return { contentType: await readContentType(key), size: info.size };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  return {
    driver: 'local',
    urls,
    now,

    async presignUpload(input): Promise<PresignedUpload> {
      assertValidKey(input.key);
      assertContentTypeSyntax(input.contentType);
      if (input.allowedContentTypes) assertContentType(input.contentType, input.allowedContentTypes);
      const maxBytes = effectiveMaxBytes(input.maxBytes, options.maxUploadBytes);
      assertTtl(options.urlTtlSeconds);
      // Whole seconds: the URL carries a unix time, and expiresAt must be exactly what is enforced.
      const expiresAt = new Date(Math.floor(now().getTime() / 1000 + options.urlTtlSeconds) * 1000);
      const query = urls.signUpload({ key: input.key, contentType: input.contentType, maxBytes, expiresAt });
      return {
        url: `${publicUrl}/storage/upload/${keyToUrlPath(input.key)}?${query}`,
        method: 'PUT',
        headers: { 'content-type': input.contentType },
        expiresAt,
        maxBytes,
      };
    },

    async presignDownload(input): Promise<PresignedDownload> {
      assertValidKey(input.key);
      const ttl = input.expiresInSeconds ?? options.urlTtlSeconds;
      assertTtl(ttl);
      const expiresAt = new Date(Math.floor(now().getTime() / 1000 + ttl) * 1000);
      const query = urls.signDownload({ key: input.key, filename: input.filename, expiresAt });
      return { url: `${publicUrl}/storage/download/${keyToUrlPath(input.key)}?${query}`, expiresAt };
    },

    async receiveUpload(grant, body) {
      return write(grant.key, body, grant.contentType, grant.maxBytes);
    },

    async put(key, body, putOptions) {
      assertValidKey(key);
      assertContentTypeSyntax(putOptions.contentType);
      // Trusted server-side write: no ceiling (Infinity keeps one code path through the limiter).
      return write(key, body, putOptions.contentType, Number.POSITIVE_INFINITY);
    },

    async get(key) {
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(objectPath(key), 'r');
      } catch (error) {
        if (isMissing(error)) throw notFound(key);
        throw error;
      }
      // Size and bytes come from the same open file: a concurrent overwrite renames a new inode into
      // place and cannot change what this reader streams.
      try {
        const info = await handle.stat();
        if (!info.isFile()) throw notFound(key);
        const contentType = await readContentType(key);
        return { body: handle.createReadStream(), contentType, size: info.size };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

    head,

    async delete(key) {
      // Bytes first: once they are gone the object no longer exists, whatever happens to the sidecar.
      for (const file of [objectPath(key), metaPath(key)]) {
        try {
          await rm(file, { force: true });
        } catch (error) {
          if (!isPrefixClash(error)) throw error; // a directory: no object by that name
        }
      }
    },

    async readPrefix(key, bytes) {
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(objectPath(key), 'r');
      } catch (error) {
        if (isMissing(error)) throw notFound(key);
        throw error;
      }
      try {
        const buffer = Buffer.alloc(bytes);
        const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
        return buffer.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    },
  };
}

export function isLocalStorage(storage: StoragePort): storage is LocalStorage {
  return storage.driver === 'local' && 'receiveUpload' in storage && 'urls' in storage;
}
