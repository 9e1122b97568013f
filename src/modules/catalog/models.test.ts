import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import type { ProductView } from './products.schemas.ts';

/** A minimal valid GLB: 12-byte header, then one JSON chunk padded with spaces to 4 bytes. */
function glb(json = '{"asset":{"version":"2.0"}}'): Buffer {
  const padded = json.padEnd(Math.ceil(json.length / 4) * 4, ' ');
  const header = Buffer.alloc(20);
  header.write('glTF', 0, 'ascii');
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(20 + padded.length, 8);
  header.writeUInt32LE(padded.length, 12);
  header.write('JSON', 16, 'ascii');
  return Buffer.concat([header, Buffer.from(padded, 'ascii')]);
}

/** One ZIP local file header (compression 0 = stored, 8 = deflate) and its data: enough for the check. */
function zipEntry(name: string, data: Buffer, compression: 0 | 8 = 0): Buffer {
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt16LE(compression, 8);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(data.length, 22);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  return Buffer.concat([header, Buffer.from(name), data]);
}

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

interface Upload {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
  maxBytes: number;
}

describe('3D/AR models', () => {
  let app: TestApp;
  let seller: TestUser;
  let otherSeller: TestUser;
  let product: ProductView;

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false });
    [seller, otherSeller] = await Promise.all([
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['seller'] }),
    ]);
    product = await createProduct(app, seller, { status: 'active' });
  });
  afterAll(() => app?.close());

  const send = (method: 'POST' | 'GET' | 'DELETE', url: string, user?: TestUser, payload?: object) =>
    app.http.inject({
      method,
      url,
      ...(user ? { headers: user.headers } : {}),
      ...(payload ? { payload } : {}),
    });

  /** The local driver's signed URL points at PUBLIC_URL: send its path and query to the app itself. */
  async function put(upload: Upload, bytes: Buffer) {
    const url = new URL(upload.url);
    return app.http.inject({
      method: upload.method,
      url: `${url.pathname}${url.search}`,
      headers: upload.headers,
      payload: bytes,
    });
  }

  async function upload(productId: string, format: 'glb' | 'usdz', bytes: Buffer, user = seller) {
    const started = await send('POST', `/api/products/${productId}/models/${format}/uploads`, user, {
      sizeBytes: bytes.length,
    });
    expect(started.statusCode).toBe(201);
    const body = started.json() as { upload: Upload };
    expect((await put(body.upload, bytes)).statusCode).toBeLessThan(300);
    return { upload: body.upload, key: new URL(body.upload.url).pathname.replace('/storage/upload/', '') };
  }

  const confirm = (productId: string, format: 'glb' | 'usdz', user = seller) =>
    send('POST', `/api/products/${productId}/models/${format}/confirm`, user);

  it('accepts a valid GLB and serves it through a signed URL', async () => {
    const bytes = glb();
    const { upload: grant } = await upload(product.id, 'glb', bytes);
    expect(grant.headers['content-type']).toBe('model/gltf-binary');
    const confirmed = await confirm(product.id, 'glb');
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({
      format: 'glb',
      sizeBytes: bytes.length,
      contentType: 'model/gltf-binary',
    });

    const listed = (await send('GET', `/api/products/${product.id}/models`)).json() as {
      items: Array<{ format: string; url: string }>;
    };
    expect(listed.items.map((item) => item.format)).toEqual(['glb']);
    const url = new URL(listed.items[0]!.url);
    const download = await app.http.inject({ url: `${url.pathname}${url.search}` });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(bytes)).toBe(true);
  });

  it('refuses a PNG renamed .glb with 422 model_invalid and removes the object', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const { key } = await upload(target.id, 'glb', PNG);
    const refused = await confirm(target.id, 'glb');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('model_invalid');
    expect(await app.platform.storage.head(key)).toBeNull();
    expect((await send('GET', `/api/products/${target.id}/models`)).json()).toEqual({ items: [] });
    // Nothing left to confirm.
    expect((await confirm(target.id, 'glb')).statusCode).toBe(404);
  });

  it('refuses a GLB whose declared length differs from the file size', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    await upload(target.id, 'glb', Buffer.concat([glb(), Buffer.from('trailing')]));
    expect((await confirm(target.id, 'glb')).statusCode).toBe(422);
  });

  it('accepts a USDZ whose first entry is a stored .usdc and refuses a deflated one', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    await upload(target.id, 'usdz', zipEntry('chair.usdc', Buffer.from('PXR-USDC\0\0\0\0')));
    const accepted = await confirm(target.id, 'usdz');
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ format: 'usdz', contentType: 'model/vnd.usdz+zip' });

    const other = await createProduct(app, seller, { status: 'active' });
    const { key } = await upload(other.id, 'usdz', zipEntry('chair.usdc', Buffer.from('compressed?'), 8));
    const refused = await confirm(other.id, 'usdz');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('model_invalid');
    expect(await app.platform.storage.head(key)).toBeNull();

    await upload(other.id, 'usdz', zipEntry('texture.png', PNG));
    expect((await confirm(other.id, 'usdz')).statusCode).toBe(422);
  });

  interface ListedModel {
    format: string;
    url: string;
    sizeBytes: number;
    replacementPending: boolean;
  }

  const listModels = async (productId: string) => {
    const listed = await send('GET', `/api/products/${productId}/models`);
    expect(listed.statusCode).toBe(200);
    return (listed.json() as { items: ListedModel[] }).items;
  };

  /** The bytes behind a signed download URL (the local driver serves it from the app). */
  async function download(signed: string) {
    const url = new URL(signed);
    const response = await app.http.inject({ url: `${url.pathname}${url.search}` });
    expect(response.statusCode).toBe(200);
    return response.rawPayload;
  }

  /** A product with a confirmed GLB; returns its key and bytes. */
  async function withReadyGlb() {
    const target = await createProduct(app, seller, { status: 'active' });
    const bytes = glb('{"asset":{"version":"2.0","generator":"live"}}');
    const { key } = await upload(target.id, 'glb', bytes);
    expect((await confirm(target.id, 'glb')).statusCode).toBe(200);
    return { target, key, bytes };
  }

  async function startUpload(productId: string, format: 'glb' | 'usdz', sizeBytes: number) {
    const started = await send('POST', `/api/products/${productId}/models/${format}/uploads`, seller, {
      sizeBytes,
    });
    expect(started.statusCode).toBe(201);
    const body = started.json() as { status: string; replacing: boolean; upload: Upload };
    return { ...body, key: new URL(body.upload.url).pathname.replace('/storage/upload/', '') };
  }

  it('a replacement keeps the ready GLB served until it is confirmed, then serves the new one and deletes the old file', async () => {
    const { target, key: liveKey, bytes: liveBytes } = await withReadyGlb();
    const newBytes = glb('{"asset":{"version":"2.0","generator":"replacement"}}');
    const started = await startUpload(target.id, 'glb', newBytes.length);
    expect(started).toMatchObject({ status: 'pending', replacing: true });
    expect(started.key).not.toBe(liveKey);

    // Before the bytes arrive and after: the live model is what the AR app gets.
    for (const stage of ['started', 'uploaded'] as const) {
      if (stage === 'uploaded') expect((await put(started.upload, newBytes)).statusCode).toBeLessThan(300);
      const items = await listModels(target.id);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({
        format: 'glb',
        sizeBytes: liveBytes.length,
        replacementPending: true,
      });
      expect((await download(items[0]!.url)).equals(liveBytes)).toBe(true);
      expect(await app.platform.storage.head(liveKey)).not.toBeNull();
    }

    const confirmed = await confirm(target.id, 'glb');
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ sizeBytes: newBytes.length, replacementPending: false });
    const items = await listModels(target.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ sizeBytes: newBytes.length, replacementPending: false });
    expect((await download(items[0]!.url)).equals(newBytes)).toBe(true);
    expect(await app.platform.storage.head(liveKey)).toBeNull();
    // Confirming again is harmless: the same model.
    const again = await confirm(target.id, 'glb');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ sizeBytes: newBytes.length });

    expect((await send('DELETE', `/api/products/${target.id}/models/glb`, seller)).statusCode).toBe(204);
    expect(await app.platform.storage.head(started.key)).toBeNull();
    expect(await listModels(target.id)).toEqual([]);
    expect((await send('DELETE', `/api/products/${target.id}/models/glb`, seller)).statusCode).toBe(404);
  });

  it('an invalid replacement (a PNG renamed .glb) is refused and removed; the ready model stays live', async () => {
    const { target, key: liveKey, bytes: liveBytes } = await withReadyGlb();
    const { key: badKey } = await upload(target.id, 'glb', PNG);
    const refused = await confirm(target.id, 'glb');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error).toMatchObject({ code: 'model_invalid', details: { format: 'glb' } });
    expect(await app.platform.storage.head(badKey)).toBeNull();
    expect(await app.platform.storage.head(liveKey)).not.toBeNull();

    const items = await listModels(target.id);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ sizeBytes: liveBytes.length, replacementPending: false });
    expect((await download(items[0]!.url)).equals(liveBytes)).toBe(true);
    // No replacement is left: confirm answers with the live model.
    const live = await confirm(target.id, 'glb');
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ sizeBytes: liveBytes.length, replacementPending: false });
  });

  it('a replacement of another content type is refused (415) and removed; the ready model stays live', async () => {
    const { target, bytes: liveBytes } = await withReadyGlb();
    const started = await startUpload(target.id, 'glb', liveBytes.length);
    // A signed PUT cannot change the type; a trusted write stands in for a store that let it through.
    await app.platform.storage.put(started.key, glb(), { contentType: 'image/png' });
    const refused = await confirm(target.id, 'glb');
    expect(refused.statusCode).toBe(415);
    expect(await app.platform.storage.head(started.key)).toBeNull();
    const items = await listModels(target.id);
    expect(items[0]).toMatchObject({ sizeBytes: liveBytes.length, replacementPending: false });
    expect((await download(items[0]!.url)).equals(liveBytes)).toBe(true);
  });

  it('a replacement confirmed before its bytes arrive is 404 and stays open', async () => {
    const { target, bytes: liveBytes } = await withReadyGlb();
    const newBytes = glb('{"asset":{"version":"2.0","generator":"late"}}');
    const started = await startUpload(target.id, 'glb', newBytes.length);
    expect((await confirm(target.id, 'glb')).statusCode).toBe(404);
    expect((await listModels(target.id))[0]).toMatchObject({
      sizeBytes: liveBytes.length,
      replacementPending: true,
    });
    expect((await put(started.upload, newBytes)).statusCode).toBeLessThan(300);
    expect((await confirm(target.id, 'glb')).json()).toMatchObject({ sizeBytes: newBytes.length });
  });

  it('two replacements in a row: the later one wins and the earlier upload is deleted', async () => {
    const { target, key: liveKey, bytes: liveBytes } = await withReadyGlb();
    const earlier = await upload(target.id, 'glb', glb('{"asset":{"version":"2.0","generator":"one"}}'));
    const laterBytes = glb('{"asset":{"version":"2.0","generator":"two-two"}}');
    const later = await startUpload(target.id, 'glb', laterBytes.length);
    expect(later.replacing).toBe(true);
    expect(await app.platform.storage.head(earlier.key)).toBeNull();
    expect((await download((await listModels(target.id))[0]!.url)).equals(liveBytes)).toBe(true);

    expect((await put(later.upload, laterBytes)).statusCode).toBeLessThan(300);
    expect((await confirm(target.id, 'glb')).json()).toMatchObject({ sizeBytes: laterBytes.length });
    expect((await download((await listModels(target.id))[0]!.url)).equals(laterBytes)).toBe(true);
    expect(await app.platform.storage.head(liveKey)).toBeNull();
  });

  it('concurrent replacements leave one pending upload and the live model served until it is confirmed', async () => {
    const { target, key: liveKey, bytes: liveBytes } = await withReadyGlb();
    const candidates = [
      glb('{"asset":{"version":"2.0","generator":"a"}}'),
      glb('{"asset":{"version":"2.0","generator":"bbbbbb"}}'),
    ];
    const started = await Promise.all(candidates.map((bytes) => startUpload(target.id, 'glb', bytes.length)));
    expect(started.map((s) => s.replacing)).toEqual([true, true]);
    const items = await listModels(target.id);
    expect(items).toHaveLength(1);
    expect(items[0]!.replacementPending).toBe(true);
    expect((await download(items[0]!.url)).equals(liveBytes)).toBe(true);

    for (const [index, grant] of started.entries()) {
      expect((await put(grant.upload, candidates[index]!)).statusCode).toBeLessThan(300);
    }
    const confirmed = await confirm(target.id, 'glb');
    expect(confirmed.statusCode).toBe(200);
    const served = await download((await listModels(target.id))[0]!.url);
    expect(candidates.filter((bytes) => bytes.equals(served))).toHaveLength(1);
    expect(await app.platform.storage.head(liveKey)).toBeNull();
  });

  it('a brand-new format stays pending and invisible until confirmed; a second upload replaces the first', async () => {
    const { target, bytes: glbBytes } = await withReadyGlb();
    const usdz = zipEntry('chair.usdc', Buffer.from('PXR-USDC\0\0\0\0'));
    const first = await startUpload(target.id, 'usdz', usdz.length);
    expect(first).toMatchObject({ status: 'pending', replacing: false });
    expect((await put(first.upload, usdz)).statusCode).toBeLessThan(300);
    expect((await listModels(target.id)).map((item) => item.format)).toEqual(['glb']);

    const second = await startUpload(target.id, 'usdz', usdz.length);
    expect(second.replacing).toBe(false);
    expect(await app.platform.storage.head(first.key)).toBeNull();
    expect((await confirm(target.id, 'usdz')).statusCode).toBe(404);
    expect((await put(second.upload, usdz)).statusCode).toBeLessThan(300);
    expect((await confirm(target.id, 'usdz')).json()).toMatchObject({
      format: 'usdz',
      replacementPending: false,
    });
    const items = await listModels(target.id);
    expect(items.map((item) => item.format)).toEqual(['glb', 'usdz']);
    expect((await download(items[0]!.url)).equals(glbBytes)).toBe(true);
    expect((await download(items[1]!.url)).equals(usdz)).toBe(true);
  });

  it('concurrent first uploads of a format leave one pending row that confirms once', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const bytes = glb();
    const started = await Promise.all([1, 2].map(() => startUpload(target.id, 'glb', bytes.length)));
    expect(started.map((s) => s.replacing)).toEqual([false, false]);
    for (const grant of started) expect((await put(grant.upload, bytes)).statusCode).toBeLessThan(300);
    expect((await confirm(target.id, 'glb')).statusCode).toBe(200);
    expect(await listModels(target.id)).toHaveLength(1);
  });

  it('removing a model with a replacement in flight deletes both files', async () => {
    const { target, key: liveKey } = await withReadyGlb();
    const pending = await upload(target.id, 'glb', glb('{"asset":{"version":"2.0","generator":"x"}}'));
    expect((await send('DELETE', `/api/products/${target.id}/models/glb`, seller)).statusCode).toBe(204);
    expect(await app.platform.storage.head(liveKey)).toBeNull();
    expect(await app.platform.storage.head(pending.key)).toBeNull();
    expect(await listModels(target.id)).toEqual([]);
    expect((await confirm(target.id, 'glb')).statusCode).toBe(404);
  });

  it("another seller cannot touch my models (404), and drafts' models are not public", async () => {
    const target = await createProduct(app, seller);
    const started = await send('POST', `/api/products/${target.id}/models/glb/uploads`, otherSeller, {
      sizeBytes: 100,
    });
    expect(started.statusCode).toBe(404);
    await upload(target.id, 'glb', glb());
    expect((await confirm(target.id, 'glb', otherSeller)).statusCode).toBe(404);
    expect((await confirm(target.id, 'glb')).statusCode).toBe(200);
    expect((await send('DELETE', `/api/products/${target.id}/models/glb`, otherSeller)).statusCode).toBe(404);
    expect((await send('GET', `/api/products/${target.id}/models`)).statusCode).toBe(404);
    expect((await send('GET', `/api/products/${target.id}/models`, seller)).statusCode).toBe(200);
    expect(
      (await send('POST', `/api/products/${target.id}/models/obj/uploads`, seller, { sizeBytes: 1 }))
        .statusCode,
    ).toBe(400);
    expect(
      (
        await send('POST', `/api/products/${target.id}/models/glb/uploads`, seller, {
          sizeBytes: 60 * 1024 * 1024,
        })
      ).statusCode,
    ).toBe(400);
  });
});
