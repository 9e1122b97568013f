import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import type { ImageUploadView, ImageView } from './media.schemas.ts';
import type { ProductView } from './products.schemas.ts';

const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  Buffer.alloc(64, 1),
]);
const JPEG = Buffer.concat([Buffer.from('ffd8ffe000104a464946', 'hex'), Buffer.alloc(64, 2)]);
const WEBP = Buffer.concat([
  Buffer.from('RIFF'),
  Buffer.from([64, 0, 0, 0]),
  Buffer.from('WEBPVP8 '),
  Buffer.alloc(56),
]);

describe('product images', () => {
  let app: TestApp;
  let seller: TestUser;
  let otherSeller: TestUser;
  let staff: TestUser;

  beforeAll(async () => {
    app = await buildTestApp({ startJobs: false, listen: true });
    [seller, otherSeller, staff] = await Promise.all([
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['seller'] }),
      createUser(app, { roles: ['staff'] }),
    ]);
  });
  afterAll(() => app?.close());

  const send = (...args: SendArgs) => sendAs(app, ...args);

  /** URLs carry PUBLIC_URL; the same path and query on the listening app is the real upload route. */
  const onApp = (signed: string) => {
    const url = new URL(signed);
    return `${app.baseUrl}${url.pathname}${url.search}`;
  };

  async function addImage(
    productId: string,
    bytes: Buffer,
    contentType: 'image/png' | 'image/jpeg' | 'image/webp' = 'image/png',
    user = seller,
  ) {
    const started = await send('POST', `/api/products/${productId}/images/uploads`, user, {
      contentType,
      sizeBytes: bytes.length,
      altText: `alt ${contentType}`,
    });
    expect(started.statusCode).toBe(201);
    const body = started.json() as ImageUploadView;
    const put = await fetch(onApp(body.upload.url), {
      method: 'PUT',
      headers: body.upload.headers,
      body: bytes,
    });
    expect(put.status).toBeLessThan(300);
    return body.image;
  }

  const confirm = (productId: string, imageId: string, user = seller) =>
    send('POST', `/api/products/${productId}/images/${imageId}/confirm`, user);

  it('upload → confirm round trip: the product read shows it with a working signed URL', async () => {
    const product = await createProduct(app, seller, { status: 'active' });
    const image = await addImage(product.id, PNG);
    expect(image).toMatchObject({ status: 'pending', url: null, altText: 'alt image/png' });
    const before = (await send('GET', `/api/products/${product.id}`)).json() as ProductView;
    expect(before.images).toEqual([]);

    const confirmed = await confirm(product.id, image.id);
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.json()).toMatchObject({ id: image.id, status: 'ready', position: 0 });
    const read = (await send('GET', `/api/products/${product.id}`)).json() as ProductView;
    expect(read.images?.map((item) => item.id)).toEqual([image.id]);
    const download = await fetch(onApp(read.images![0]!.url));
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(PNG)).toBe(true);
    // Confirming again changes nothing.
    expect((await confirm(product.id, image.id)).json()).toMatchObject({ status: 'ready', position: 0 });
  });

  it('refuses bytes that are not the declared image type (422 image_invalid) and removes the object', async () => {
    const product = await createProduct(app, seller);
    const image = await addImage(product.id, PNG, 'image/jpeg');
    const refused = await confirm(product.id, image.id);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.code).toBe('image_invalid');
    expect(await app.platform.storage.head(`products/${product.id}/images/${image.id}`)).toBeNull();
    expect((await confirm(product.id, image.id)).statusCode).toBe(404);
    const gif = await send('POST', `/api/products/${product.id}/images/uploads`, seller, {
      contentType: 'image/gif',
      sizeBytes: 10,
    });
    expect(gif.statusCode).toBe(400);
    const unconfirmed = await send('POST', `/api/products/${product.id}/images/uploads`, seller, {
      contentType: 'image/png',
      sizeBytes: 10,
    });
    expect((await confirm(product.id, (unconfirmed.json() as ImageUploadView).image.id)).statusCode).toBe(
      404,
    );
  });

  it('orders images: confirm appends, PATCH moves, reorder needs exactly the ready images', async () => {
    const product = await createProduct(app, seller, { status: 'active' });
    const ids: string[] = [];
    for (const [bytes, type] of [
      [PNG, 'image/png'],
      [JPEG, 'image/jpeg'],
      [WEBP, 'image/webp'],
    ] as const) {
      const image = await addImage(product.id, bytes, type);
      expect((await confirm(product.id, image.id)).statusCode).toBe(200);
      ids.push(image.id);
    }
    const pending = await addImage(product.id, PNG);
    const [a, b, c] = ids as [string, string, string];
    const order = async () =>
      ((await send('GET', `/api/products/${product.id}`)).json() as ProductView).images?.map(
        (image) => image.id,
      );
    expect(await order()).toEqual([a, b, c]);

    const moved = await send('PATCH', `/api/products/${product.id}/images/${c}`, seller, {
      position: 0,
      altText: 'Front',
    });
    expect(moved.json()).toMatchObject({ position: 0, altText: 'Front' });
    expect(await order()).toEqual([c, a, b]);

    for (const wrong of [
      [a, b],
      [a, b, c, pending.id],
      [a, a, b, c],
    ]) {
      const response = await send('POST', `/api/products/${product.id}/images/reorder`, seller, {
        imageIds: wrong,
      });
      expect(response.statusCode).toBe(422);
      expect(response.json().error.code).toBe('image_order_mismatch');
    }
    const reordered = await send('POST', `/api/products/${product.id}/images/reorder`, staff, {
      imageIds: [b, c, a],
    });
    expect(reordered.statusCode).toBe(200);
    expect((reordered.json() as { items: ImageView[] }).items.map((image) => image.id)).toEqual([b, c, a]);
    expect(await order()).toEqual([b, c, a]);

    expect((await send('DELETE', `/api/products/${product.id}/images/${c}`, seller)).statusCode).toBe(204);
    expect(await app.platform.storage.head(`products/${product.id}/images/${c}`)).toBeNull();
    expect(await order()).toEqual([b, a]);
    expect((await send('DELETE', `/api/products/${product.id}/images/${c}`, seller)).statusCode).toBe(404);
  });

  it('another seller cannot touch my images (404)', async () => {
    const product = await createProduct(app, seller, { status: 'active' });
    const image = await addImage(product.id, PNG);
    const attempts = [
      send('POST', `/api/products/${product.id}/images/uploads`, otherSeller, {
        contentType: 'image/png',
        sizeBytes: 10,
      }),
      confirm(product.id, image.id, otherSeller),
      send('PATCH', `/api/products/${product.id}/images/${image.id}`, otherSeller, { altText: 'mine' }),
      send('POST', `/api/products/${product.id}/images/reorder`, otherSeller, { imageIds: [] }),
      send('DELETE', `/api/products/${product.id}/images/${image.id}`, otherSeller),
    ];
    for (const response of await Promise.all(attempts)) expect(response.statusCode).toBe(404);
    expect(
      (
        await send('POST', `/api/products/${product.id}/images/uploads`, undefined, {
          contentType: 'image/png',
          sizeBytes: 10,
        })
      ).statusCode,
    ).toBe(401);
    expect((await confirm(product.id, image.id)).statusCode).toBe(200);
  });
});
