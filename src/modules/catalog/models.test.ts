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

  it('keeps one model per format: a second upload replaces the first and deletes its file', async () => {
    const target = await createProduct(app, seller, { status: 'active' });
    const first = await upload(target.id, 'glb', glb());
    expect((await confirm(target.id, 'glb')).statusCode).toBe(200);
    const second = await upload(target.id, 'glb', glb('{"asset":{"version":"2.0","generator":"b"}}'));
    expect(second.key).not.toBe(first.key);
    expect(await app.platform.storage.head(first.key)).toBeNull();
    expect((await confirm(target.id, 'glb')).statusCode).toBe(200);
    const listed = (await send('GET', `/api/products/${target.id}/models`)).json() as { items: unknown[] };
    expect(listed.items).toHaveLength(1);

    expect((await send('DELETE', `/api/products/${target.id}/models/glb`, seller)).statusCode).toBe(204);
    expect(await app.platform.storage.head(second.key)).toBeNull();
    expect((await send('GET', `/api/products/${target.id}/models`)).json()).toEqual({ items: [] });
    expect((await send('DELETE', `/api/products/${target.id}/models/glb`, seller)).statusCode).toBe(404);
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
