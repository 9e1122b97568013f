import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeS3, startFakeS3 } from '../../../test/fakes/s3-server.ts';
import { verifyUpload } from './content-checks.ts';
import { createS3Client, createS3Storage, type S3Settings } from './s3.storage.ts';
import type { StoragePort } from './storage.port.ts';

let fake: FakeS3;
let client: S3Client;
let storage: StoragePort;
let settings: S3Settings;

const TTL = 900;
const MAX = 1024;

beforeEach(async () => {
  fake = await startFakeS3();
  settings = {
    bucket: fake.bucket,
    region: fake.region,
    endpoint: fake.endpoint,
    accessKeyId: fake.accessKeyId,
    secretAccessKey: fake.secretAccessKey,
    forcePathStyle: true,
  };
  client = createS3Client(settings);
  storage = createS3Storage({ s3: settings, maxUploadBytes: MAX, urlTtlSeconds: TTL }, client);
});

afterEach(async () => {
  client.destroy();
  await fake.close();
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('s3 storage against the loopback fake', () => {
  it('puts, heads, gets, reads a prefix and deletes', async () => {
    const body = Buffer.from('glTF\u0002\u0000\u0000\u0000payload');
    expect(await storage.put('models/a.glb', body, { contentType: 'model/gltf-binary' })).toEqual({
      size: body.length,
    });
    expect(fake.objects.get('models/a.glb')?.contentType).toBe('model/gltf-binary');
    expect(await storage.head('models/a.glb')).toEqual({
      contentType: 'model/gltf-binary',
      size: body.length,
    });

    const object = await storage.get('models/a.glb');
    expect(object).toMatchObject({ contentType: 'model/gltf-binary', size: body.length });
    expect((await readAll(object.body)).equals(body)).toBe(true);
    expect((await storage.readPrefix('models/a.glb', 4)).toString()).toBe('glTF');

    await storage.delete('models/a.glb');
    await storage.delete('models/a.glb'); // idempotent, like S3
    expect(fake.objects.has('models/a.glb')).toBe(false);
    expect(await storage.head('models/a.glb')).toBeNull();
    await expect(storage.get('models/a.glb')).rejects.toMatchObject({ code: 'not_found' });
    await expect(storage.readPrefix('models/a.glb', 4)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('puts streams of unknown length (buffered, bounded) and of known length (streamed)', async () => {
    const parts = [Buffer.from('hello '), Buffer.from('world')];
    expect(await storage.put('s/unknown.txt', Readable.from(parts), { contentType: 'text/plain' })).toEqual({
      size: 11,
    });
    expect(fake.objects.get('s/unknown.txt')?.body.toString()).toBe('hello world');

    expect(
      await storage.put('s/known.txt', Readable.from(parts), {
        contentType: 'text/plain',
        contentLength: 11,
      }),
    ).toEqual({ size: 11 });
    expect(fake.objects.get('s/known.txt')?.body.toString()).toBe('hello world');

    const tooBig = Readable.from([Buffer.alloc(MAX), Buffer.alloc(1)]);
    await expect(
      storage.put('s/big.bin', tooBig, { contentType: 'application/octet-stream' }),
    ).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    expect(fake.objects.has('s/big.bin')).toBe(false);
  });

  it('reads an empty prefix from an empty object', async () => {
    await storage.put('empty.bin', Buffer.alloc(0), { contentType: 'application/octet-stream' });
    expect((await storage.readPrefix('empty.bin', 4)).length).toBe(0);
  });

  it('rejects invalid keys before calling S3', async () => {
    await expect(storage.put('../x', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toMatchObject({
      code: 'storage_key_invalid',
    });
    await expect(storage.presignDownload({ key: '/etc/passwd' })).rejects.toMatchObject({
      code: 'storage_key_invalid',
    });
  });

  it('is refused by the fake when the secret is wrong (signatures are really checked)', async () => {
    const wrong = createS3Client({ ...settings, secretAccessKey: 'not-the-secret' });
    const other = createS3Storage({ s3: settings, maxUploadBytes: MAX, urlTtlSeconds: TTL }, wrong);
    await expect(other.put('k.txt', Buffer.from('x'), { contentType: 'text/plain' })).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
    });
    wrong.destroy();
  });

  it('round-trips a presigned PUT and GET with fetch', async () => {
    const upload = await storage.presignUpload({
      key: 'uploads/chair.usdz',
      contentType: 'model/vnd.usdz+zip',
      allowedContentTypes: ['model/*'],
      maxBytes: 100,
    });
    expect(upload).toMatchObject({
      method: 'PUT',
      headers: { 'content-type': 'model/vnd.usdz+zip' },
      maxBytes: 100,
    });
    expect(new URL(upload.url).searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
    const body = Buffer.from('PK\u0003\u0004usdz');
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body });
    expect(put.status).toBe(200);
    expect(
      await verifyUpload(storage, 'uploads/chair.usdz', { maxBytes: 100, allowedContentTypes: ['model/*'] }),
    ).toEqual({
      contentType: 'model/vnd.usdz+zip',
      size: body.length,
    });

    const download = await storage.presignDownload({ key: 'uploads/chair.usdz', filename: 'Chair €.usdz' });
    const got = await fetch(download.url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('model/vnd.usdz+zip');
    expect(got.headers.get('content-disposition')).toBe(
      `attachment; filename="Chair _.usdz"; filename*=UTF-8''Chair%20%E2%82%AC.usdz`,
    );
    expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
  });

  it('refuses a presigned PUT with another Content-Type, a tampered signature or an expired URL', async () => {
    const upload = await storage.presignUpload({ key: 'u/p.png', contentType: 'image/png' });
    const wrongType = await fetch(upload.url, {
      method: 'PUT',
      headers: { 'content-type': 'text/html' },
      body: 'x',
    });
    expect(wrongType.status).toBe(403);
    expect(await wrongType.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    const url = new URL(upload.url);
    const sig = url.searchParams.get('X-Amz-Signature') ?? '';
    url.searchParams.set('X-Amz-Signature', `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}`);
    const tampered = await fetch(url, { method: 'PUT', headers: upload.headers, body: 'x' });
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');

    const past = createS3Storage(
      { s3: settings, maxUploadBytes: MAX, urlTtlSeconds: TTL, now: () => new Date(Date.now() - 3600_000) },
      client,
    );
    const stale = await past.presignDownload({ key: 'u/p.png' });
    const expired = await fetch(stale.url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    expect(fake.objects.has('u/p.png')).toBe(false);
  });

  it('answers NoSuchKey as XML for a presigned GET of a missing object', async () => {
    const { url } = await storage.presignDownload({ key: 'missing.bin' });
    const res = await fetch(url);
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/<Error><Code>NoSuchKey<\/Code>/);
  });

  it('verifyUpload deletes an object above the ceiling (S3 presigned PUT cannot cap size)', async () => {
    const upload = await storage.presignUpload({
      key: 'u/huge.bin',
      contentType: 'application/octet-stream',
      maxBytes: 8,
    });
    const put = await fetch(upload.url, { method: 'PUT', headers: upload.headers, body: Buffer.alloc(20) });
    expect(put.status).toBe(200); // S3 accepted it: the limit is ours to enforce
    await expect(verifyUpload(storage, 'u/huge.bin', { maxBytes: upload.maxBytes })).rejects.toMatchObject({
      code: 'payload_too_large',
    });
    expect(fake.objects.has('u/huge.bin')).toBe(false);
  });
});
