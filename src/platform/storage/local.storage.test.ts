import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError } from '../errors/index.ts';
import { access } from '../http/access.ts';
import { createLocalStorage, type LocalStorage } from './local.storage.ts';
import { registerStorageRoutes } from './storage.routes.ts';

const SECRET = 'x'.repeat(32);
const MAX = 1024;
const TTL = 900;

let dataDir: string;
let clock: Date;
let storage: LocalStorage;
let app: FastifyInstance;

/** The platform's error handler is not this module's; this one maps AppError the same documented way. */
async function buildApp(target: LocalStorage): Promise<FastifyInstance> {
  const instance = Fastify();
  instance.setErrorHandler((error: FastifyError, _request, reply) => {
    if (isAppError(error)) {
      if (error.headers) reply.headers(error.headers);
      return reply.status(error.status).send({ code: error.code, message: error.message });
    }
    const status = error.statusCode ?? 500;
    return reply.status(status).send({ code: status === 400 ? 'validation_failed' : 'internal_error' });
  });
  registerStorageRoutes(instance, target);
  // A sibling route proves the raw-stream parser stays inside the storage plugin.
  instance.post('/echo', { config: { access: access.public('test') } }, async (request) => request.body);
  await instance.ready();
  return instance;
}

/** The path and query of a signed URL, for app.inject. */
const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'caravan-storage-'));
  clock = new Date('2030-01-01T00:00:00.000Z');
  storage = createLocalStorage({
    root: path.join(dataDir, 'storage'),
    publicUrl: 'http://localhost:3000/',
    secret: SECRET,
    maxUploadBytes: MAX,
    urlTtlSeconds: TTL,
    now: () => clock,
  });
  app = await buildApp(storage);
});

afterEach(async () => {
  await app.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('local storage: signed upload and download routes', () => {
  it('round-trips a presigned upload and download', async () => {
    const body = Buffer.from('glTF\u0002\u0000\u0000\u0000 model bytes');
    const upload = await storage.presignUpload({
      key: 'models/chair.glb',
      contentType: 'model/gltf-binary',
      maxBytes: 512,
      allowedContentTypes: ['model/gltf-binary', 'model/vnd.usdz+zip'],
    });
    expect(upload).toMatchObject({
      method: 'PUT',
      headers: { 'content-type': 'model/gltf-binary' },
      maxBytes: 512,
    });
    expect(upload.url.startsWith('http://localhost:3000/storage/upload/models/chair.glb?')).toBe(true);
    expect(upload.expiresAt.getTime()).toBe(clock.getTime() + TTL * 1000);

    const put = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: upload.headers,
      payload: body,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ key: 'models/chair.glb', size: body.length });
    expect(await storage.head('models/chair.glb')).toEqual({
      contentType: 'model/gltf-binary',
      size: body.length,
    });
    expect((await storage.readPrefix('models/chair.glb', 4)).toString()).toBe('glTF');

    const download = await storage.presignDownload({ key: 'models/chair.glb', filename: 'Chair "v2".glb' });
    const got = await app.inject({ method: 'GET', url: pathOf(download.url) });
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(body)).toBe(true);
    expect(got.headers['content-type']).toBe('model/gltf-binary');
    expect(got.headers['content-length']).toBe(String(body.length));
    expect(got.headers['content-disposition']).toBe(
      `attachment; filename="Chair v2.glb"; filename*=UTF-8''Chair%20v2.glb`,
    );
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['cross-origin-resource-policy']).toBe('cross-origin');
  });

  it('stores a JSON file byte for byte while the rest of the app still parses JSON', async () => {
    const json = '{ "a": 1 }';
    const upload = await storage.presignUpload({ key: 'data/doc.json', contentType: 'application/json' });
    const put = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: upload.headers,
      payload: json,
    });
    expect(put.statusCode).toBe(200);
    expect((await storage.readPrefix('data/doc.json', 100)).toString()).toBe(json);
    const echo = await app.inject({ method: 'POST', url: '/echo', payload: { b: 2 } });
    expect(echo.json()).toEqual({ b: 2 });
  });

  it('serves a download without a filename inline (no Content-Disposition)', async () => {
    await storage.put('avatars/u1.png', Buffer.from('png'), { contentType: 'image/png' });
    const { url } = await storage.presignDownload({ key: 'avatars/u1.png' });
    const got = await app.inject({ method: 'GET', url: pathOf(url) });
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-disposition']).toBeUndefined();
    expect(got.body).toBe('png');
  });

  it('refuses expired upload and download URLs with storage_url_expired', async () => {
    await storage.put('a/b.txt', Buffer.from('hi'), { contentType: 'text/plain' });
    const upload = await storage.presignUpload({ key: 'a/c.txt', contentType: 'text/plain' });
    const download = await storage.presignDownload({ key: 'a/b.txt', expiresInSeconds: 60 });
    clock = new Date(clock.getTime() + 61_000);
    const got = await app.inject({ method: 'GET', url: pathOf(download.url) });
    expect(got.statusCode).toBe(403);
    expect(got.json().code).toBe('storage_url_expired');

    clock = new Date(upload.expiresAt.getTime());
    const put = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: upload.headers,
      payload: 'x',
    });
    expect(put.statusCode).toBe(403);
    expect(put.json().code).toBe('storage_url_expired');
    expect(await storage.head('a/c.txt')).toBeNull();
  });

  it('refuses a tampered signature, a raised ceiling, a changed expiry or another key', async () => {
    const upload = await storage.presignUpload({ key: 'docs/one.pdf', contentType: 'application/pdf' });
    const url = new URL(upload.url);
    const sig = url.searchParams.get('sig') ?? '';
    const tampered = (edit: (u: URL) => void) => {
      const copy = new URL(url);
      edit(copy);
      return `${copy.pathname}${copy.search}`;
    };
    const attempts = [
      tampered((u) => u.searchParams.set('sig', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`)),
      tampered((u) => u.searchParams.set('max', String(MAX * 10))),
      tampered((u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600))),
      tampered((u) => u.searchParams.set('ct', 'text/html')),
      tampered((u) => {
        u.pathname = '/storage/upload/docs/two.pdf';
      }),
    ];
    for (const attempt of attempts) {
      const headers = { 'content-type': new URL(attempt, url).searchParams.get('ct') ?? '' };
      const res = await app.inject({ method: 'PUT', url: attempt, headers, payload: 'x' });
      expect(res.statusCode, attempt).toBe(403);
      expect(res.json().code).toBe('storage_signature_invalid');
    }
    // A download signature does not open an upload, and vice versa.
    const download = await storage.presignDownload({ key: 'docs/one.pdf' });
    const asUpload = pathOf(download.url).replace('/download/', '/upload/');
    const res = await app.inject({
      method: 'PUT',
      url: `${asUpload}&ct=text/plain&max=10`,
      payload: 'x',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.json().code).toBe('storage_signature_invalid');
  });

  it('answers 415 when the Content-Type differs from the signed one', async () => {
    const upload = await storage.presignUpload({ key: 'img/p.png', contentType: 'image/png' });
    const res = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: { 'content-type': 'text/html' },
      payload: '<script>',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('unsupported_media_type');
    const missing = await app.inject({ method: 'PUT', url: pathOf(upload.url), payload: Buffer.from('x') });
    expect(missing.statusCode).toBe(415);
    expect(await storage.head('img/p.png')).toBeNull();
  });

  it('refuses a disallowed content type when presigning', async () => {
    await expect(
      storage.presignUpload({
        key: 'm/x.exe',
        contentType: 'application/x-msdownload',
        allowedContentTypes: ['model/*'],
      }),
    ).rejects.toMatchObject({ code: 'unsupported_media_type' });
  });

  it('answers 413 for a declared Content-Length above the signed ceiling', async () => {
    const upload = await storage.presignUpload({
      key: 'big/declared.bin',
      contentType: 'application/octet-stream',
      maxBytes: 10,
    });
    const res = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: upload.headers,
      payload: Buffer.alloc(11),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('payload_too_large');
    expect(await storage.head('big/declared.bin')).toBeNull();
  });

  it('answers 413 while streaming when no length is declared, and leaves no partial file', async () => {
    const upload = await storage.presignUpload({
      key: 'big/streamed.bin',
      contentType: 'application/octet-stream',
      maxBytes: 100,
    });
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(30, 1));
    const res = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: upload.headers,
      payload: Readable.from(chunks),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('payload_too_large');
    expect(await storage.head('big/streamed.bin')).toBeNull();
    expect(await readdir(path.join(dataDir, 'storage', 'tmp'))).toEqual([]);
  });

  it('accepts a streamed upload at exactly the ceiling', async () => {
    const upload = await storage.presignUpload({
      key: 'big/exact.bin',
      contentType: 'application/octet-stream',
      maxBytes: 90,
    });
    const res = await app.inject({
      method: 'PUT',
      url: pathOf(upload.url),
      headers: upload.headers,
      payload: Readable.from([Buffer.alloc(45, 1), Buffer.alloc(45, 2)]),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ key: 'big/exact.bin', size: 90 });
  });

  it('refuses path traversal keys everywhere', async () => {
    for (const key of [
      '../escape',
      'a/../../etc/passwd',
      '/abs',
      'a//b',
      '.hidden',
      'a/./b',
      'a\\b',
      'a b',
      '',
    ]) {
      await expect(storage.presignUpload({ key, contentType: 'text/plain' })).rejects.toMatchObject({
        code: 'storage_key_invalid',
      });
      await expect(storage.get(key)).rejects.toMatchObject({ code: 'storage_key_invalid' });
      await expect(storage.put(key, Buffer.from('x'), { contentType: 'text/plain' })).rejects.toMatchObject({
        code: 'storage_key_invalid',
      });
    }
    const upload = await storage.presignUpload({ key: 'safe.txt', contentType: 'text/plain' });
    const query = new URL(upload.url).search;
    const res = await app.inject({
      method: 'PUT',
      url: `/storage/upload/..%2F..%2Fescape.txt${query}`,
      headers: upload.headers,
      payload: 'x',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('storage_key_invalid');
    expect(await readdir(dataDir)).toEqual([]); // nothing was written anywhere, inside or out
  });
});

describe('local storage: adapter', () => {
  it('puts, heads, gets, reads a prefix and deletes', async () => {
    const { size } = await storage.put('x/y/z.usdz', Readable.from([Buffer.from('PK\u0003\u0004rest')]), {
      contentType: 'model/vnd.usdz+zip',
    });
    expect(size).toBe(8);
    expect(await storage.head('x/y/z.usdz')).toEqual({ contentType: 'model/vnd.usdz+zip', size: 8 });
    const object = await storage.get('x/y/z.usdz');
    expect(object.contentType).toBe('model/vnd.usdz+zip');
    expect(object.size).toBe(8);
    expect((await readStream(object.body)).toString()).toBe('PK\u0003\u0004rest');
    expect((await storage.readPrefix('x/y/z.usdz', 100)).length).toBe(8);
    expect(
      JSON.parse(await readFile(path.join(dataDir, 'storage', 'meta', 'x', 'y', 'z.usdz.json'), 'utf8')),
    ).toEqual({
      contentType: 'model/vnd.usdz+zip',
    });

    await storage.delete('x/y/z.usdz');
    await storage.delete('x/y/z.usdz'); // idempotent
    expect(await storage.head('x/y/z.usdz')).toBeNull();
    await expect(storage.get('x/y/z.usdz')).rejects.toMatchObject({ code: 'not_found' });
    await expect(storage.readPrefix('x/y/z.usdz', 4)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('overwrites atomically and refuses a key that clashes with a prefix', async () => {
    await storage.put('k', Buffer.from('one'), { contentType: 'text/plain' });
    await storage.put('k', Buffer.from('second'), { contentType: 'application/json' });
    expect(await storage.head('k')).toEqual({ contentType: 'application/json', size: 6 });
    await expect(
      storage.put('k/child', Buffer.from('x'), { contentType: 'text/plain' }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('404s a signed download for a missing object', async () => {
    const { url } = await storage.presignDownload({ key: 'nothing/here.bin' });
    const res = await app.inject({ method: 'GET', url: pathOf(url) });
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('not_found');
  });
});

describe('local storage over a real socket', () => {
  it('uploads with fetch and stops a chunked upload that exceeds the ceiling', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const ok = await storage.presignUpload({
      key: 'net/ok.bin',
      contentType: 'application/octet-stream',
      maxBytes: 64,
    });
    const okRes = await fetch(`${origin}${pathOf(ok.url)}`, {
      method: 'PUT',
      headers: ok.headers,
      body: Buffer.alloc(64, 7),
    });
    expect(okRes.status).toBe(200);
    const download = await storage.presignDownload({ key: 'net/ok.bin' });
    const got = await fetch(`${origin}${pathOf(download.url)}`);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.alloc(64, 7))).toBe(true);

    // A client that declares nothing (chunked) and keeps sending: refused once it passes the ceiling.
    const big = await storage.presignUpload({
      key: 'net/big.bin',
      contentType: 'application/octet-stream',
      maxBytes: 64,
    });
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 32;
        if (sent > 1024) controller.close();
        else controller.enqueue(new Uint8Array(32));
      },
    });
    const res = await fetch(`${origin}${pathOf(big.url)}`, {
      method: 'PUT',
      headers: big.headers,
      body,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(await storage.head('net/big.bin')).toBeNull();
  });
});

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
