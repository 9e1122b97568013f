import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProduct } from '../../../test/factories/catalog.ts';
import { createUser, type SendArgs, sendAs, type TestUser } from '../../../test/factories/users.ts';
import { buildTestApp, type TestApp } from '../../../test/harness/build-test-app.ts';
import { waitFor } from '../../../test/harness/wait-for.ts';
import { createFakeClock } from '../../platform/clock/clock.ts';
import { AppError } from '../../platform/errors/index.ts';
import type { StoragePort } from '../../platform/storage/index.ts';
import { productImages, productModels } from './catalog.tables.ts';
import { catalogModule } from './index.ts';
import type { ImageUploadView } from './media.schemas.ts';
import {
  ABANDONED_UPLOAD_AGE_MS,
  purgeAbandonedUploads,
  purgeAbandonedUploadsJob,
} from './upload-cleanup.jobs.ts';

const HOUR = 60 * 60 * 1000;

const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'),
  Buffer.alloc(64, 1),
]);

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

/** A ZIP local file header of a stored `.usdc` entry: enough for the USDZ check. */
function usdz(): Buffer {
  const name = 'scene.usdc';
  const data = Buffer.from('PXR-USDC');
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(20, 4);
  header.writeUInt32LE(data.length, 18);
  header.writeUInt32LE(data.length, 22);
  header.writeUInt16LE(Buffer.byteLength(name), 26);
  return Buffer.concat([header, Buffer.from(name), data]);
}

interface Upload {
  url: string;
  method: 'PUT';
  headers: Record<string, string>;
}

/**
 * Uploads through the routes, as a client would. Access tokens expire by the fake clock too: after
 * advancing it, act as a user created since (staff manage every product).
 */
function uploads(app: () => TestApp, seller: () => TestUser) {
  const send = (...args: SendArgs) => sendAs(app(), ...args);
  /** The local driver's signed URL points at PUBLIC_URL: send its path and query to the app itself. */
  const keyOf = (upload: Upload) => new URL(upload.url).pathname.replace('/storage/upload/', '');

  async function put(upload: Upload, bytes: Buffer) {
    const url = new URL(upload.url);
    const response = await app().http.inject({
      method: upload.method,
      url: `${url.pathname}${url.search}`,
      headers: upload.headers,
      payload: bytes,
    });
    expect(response.statusCode).toBeLessThan(300);
  }

  return {
    send,
    /** A pending image; the bytes are PUT only when given. */
    async startImage(productId: string, bytes?: Buffer, user = seller()) {
      const started = await send('POST', `/api/products/${productId}/images/uploads`, user, {
        contentType: 'image/png',
        sizeBytes: PNG.length,
      });
      expect(started.statusCode).toBe(201);
      const body = started.json() as ImageUploadView;
      if (bytes) await put(body.upload, bytes);
      return { id: body.image.id, key: keyOf(body.upload) };
    },
    /** A pending model of `format`; the bytes are PUT only when given. */
    async startModel(productId: string, format: 'glb' | 'usdz', bytes?: Buffer, user = seller()) {
      const started = await send('POST', `/api/products/${productId}/models/${format}/uploads`, user, {
        sizeBytes: bytes?.length ?? 100,
      });
      expect(started.statusCode).toBe(201);
      const body = started.json() as { upload: Upload };
      if (bytes) await put(body.upload, bytes);
      return { key: keyOf(body.upload) };
    },
    async confirmImage(productId: string, imageId: string, user = seller()) {
      const confirmed = await send('POST', `/api/products/${productId}/images/${imageId}/confirm`, user);
      expect(confirmed.json()).toMatchObject({ status: 'ready' });
    },
    async confirmModel(productId: string, format: 'glb' | 'usdz', user = seller()) {
      const confirmed = await send('POST', `/api/products/${productId}/models/${format}/confirm`, user);
      expect(confirmed.statusCode).toBe(200);
    },
  };
}

async function imageRows(app: TestApp, ids: string[]) {
  return app.platform.db
    .select({ id: productImages.id, status: productImages.status })
    .from(productImages)
    .where(inArray(productImages.id, ids));
}

async function modelRow(app: TestApp, productId: string, format: 'glb' | 'usdz') {
  const [row] = await app.platform.db
    .select()
    .from(productModels)
    .where(and(eq(productModels.productId, productId), eq(productModels.format, format)));
  return row;
}

describe('catalog.purge-abandoned-uploads', () => {
  // Starts at the real time: image rows take `created_at` from the database's now().
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;
  const client = uploads(
    () => app,
    () => seller,
  );

  beforeAll(async () => {
    // Jobs stay off: the test runs the sweep itself at the fake time it chose.
    app = await buildTestApp({ clock, startJobs: false });
    seller = await createUser(app, { roles: ['seller'] });
  });
  afterAll(() => app?.close());

  const purge = () =>
    purgeAbandonedUploads({
      db: app.platform.db,
      clock,
      storage: app.platform.storage,
      logger: app.platform.logger,
    });

  it('deletes unconfirmed uploads past 24 h, rows first and then their objects; ready ones stay', async () => {
    const kept = await createProduct(app, seller, { status: 'active' });
    const readyImage = await client.startImage(kept.id, PNG);
    await client.confirmImage(kept.id, readyImage.id);
    const readyModel = await client.startModel(kept.id, 'glb', glb());
    await client.confirmModel(kept.id, 'glb');

    const abandoned = await createProduct(app, seller);
    const imageWithFile = await client.startImage(abandoned.id, PNG);
    const imageWithoutFile = await client.startImage(abandoned.id);
    const modelWithFile = await client.startModel(abandoned.id, 'glb', glb());
    const modelWithoutFile = await client.startModel(abandoned.id, 'usdz');
    expect(await app.platform.storage.head(imageWithFile.key)).not.toBeNull();
    expect(await app.platform.storage.head(modelWithFile.key)).not.toBeNull();

    const restarted = await createProduct(app, seller);
    await client.startModel(restarted.id, 'glb');
    // A ready model whose replacement upload starts later: that upload is younger than 24 h.
    const replaced = await createProduct(app, seller, { status: 'active' });
    await client.startModel(replaced.id, 'usdz', usdz());
    await client.confirmModel(replaced.id, 'usdz');

    // Just before the threshold nothing is abandoned yet.
    clock.advance(ABANDONED_UPLOAD_AGE_MS - HOUR);
    expect(await purge()).toEqual({ images: 0, models: 0, replacements: 0, objectsFailed: 0 });
    expect(await imageRows(app, [imageWithFile.id, imageWithoutFile.id])).toHaveLength(2);
    expect(await modelRow(app, abandoned.id, 'glb')).toMatchObject({ status: 'pending' });
    expect(await modelRow(app, abandoned.id, 'usdz')).toMatchObject({ status: 'pending' });
    const staff = await createUser(app, { roles: ['staff'] });
    await client.startModel(replaced.id, 'usdz', usdz(), staff);
    // A format never confirmed whose upload is started again: its row is old, the upload is not.
    await client.startModel(restarted.id, 'glb', glb(), staff);

    clock.advance(2 * HOUR);
    expect(await purge()).toEqual({ images: 2, models: 2, replacements: 0, objectsFailed: 0 });
    expect(await imageRows(app, [imageWithFile.id, imageWithoutFile.id])).toEqual([]);
    expect(await modelRow(app, abandoned.id, 'glb')).toBeUndefined();
    expect(await modelRow(app, abandoned.id, 'usdz')).toBeUndefined();
    expect(await app.platform.storage.head(imageWithFile.key)).toBeNull();
    expect(await app.platform.storage.head(modelWithFile.key)).toBeNull();
    expect(await app.platform.storage.head(modelWithoutFile.key)).toBeNull();

    // Confirmed uploads are untouched, rows and objects, however old.
    expect(await imageRows(app, [readyImage.id])).toEqual([{ id: readyImage.id, status: 'ready' }]);
    expect(await app.platform.storage.head(readyImage.key)).not.toBeNull();
    expect(await modelRow(app, kept.id, 'glb')).toMatchObject({
      status: 'ready',
      storageKey: readyModel.key,
    });
    expect(await app.platform.storage.head(readyModel.key)).not.toBeNull();
    const listed = await client.send('GET', `/api/products/${kept.id}/models`);
    expect(listed.json().items.map((item: { format: string }) => item.format)).toEqual(['glb']);
    // The uploads started again 1 h ago keep their rows.
    expect(await modelRow(app, replaced.id, 'usdz')).toBeDefined();
    expect(await modelRow(app, restarted.id, 'glb')).toMatchObject({ status: 'pending' });

    // A second run finds nothing.
    expect(await purge()).toEqual({ images: 0, models: 0, replacements: 0, objectsFailed: 0 });
    expect(await imageRows(app, [readyImage.id])).toHaveLength(1);
    expect(await modelRow(app, kept.id, 'glb')).toMatchObject({ status: 'ready' });
  });
});

describe('abandoned upload sweeps: batches, concurrency, storage failures', () => {
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;
  const client = uploads(
    () => app,
    () => seller,
  );

  beforeAll(async () => {
    app = await buildTestApp({ clock, startJobs: false });
    seller = await createUser(app, { roles: ['seller'] });
  });
  afterAll(() => app?.close());

  it('two sweeps at once delete every abandoned row exactly once, in batches', async () => {
    const product = await createProduct(app, seller);
    const images = [];
    for (let index = 0; index < 7; index++) images.push(await client.startImage(product.id, PNG));
    clock.advance(ABANDONED_UPLOAD_AGE_MS + HOUR);

    const sweep = () =>
      purgeAbandonedUploads({
        db: app.platform.db,
        clock,
        storage: app.platform.storage,
        logger: app.platform.logger,
        batchSize: 2,
      });
    const reports = await Promise.all([sweep(), sweep()]);
    expect(reports[0]!.images + reports[1]!.images).toBe(7);
    expect(reports.map((report) => report.objectsFailed)).toEqual([0, 0]);
    expect(
      await imageRows(
        app,
        images.map((image) => image.id),
      ),
    ).toEqual([]);
    for (const image of images) expect(await app.platform.storage.head(image.key)).toBeNull();
  });

  it('keeps going when an object cannot be deleted; "not found" is not a failure', async () => {
    // Signed in now: the previous test moved the clock past the seller's token.
    const staff = await createUser(app, { roles: ['staff'] });
    const product = await createProduct(app, staff);
    const failing = await client.startImage(product.id, PNG, staff);
    const missing = await client.startImage(product.id, PNG, staff);
    const fine = await client.startModel(product.id, 'glb', glb(), staff);
    clock.advance(ABANDONED_UPLOAD_AGE_MS + HOUR);

    const real = app.platform.storage;
    // The real adapter, with one object its backend refuses to delete and one it reports missing.
    const storage: StoragePort = {
      ...real,
      async delete(key) {
        if (key === failing.key) throw new Error('storage backend unavailable');
        if (key === missing.key) {
          await real.delete(key);
          throw new AppError('not_found', 'The stored object was not found');
        }
        await real.delete(key);
      },
    };
    expect(
      await purgeAbandonedUploads({ db: app.platform.db, clock, storage, logger: app.platform.logger }),
    ).toEqual({ images: 2, models: 1, replacements: 0, objectsFailed: 1 });
    // Every row is gone; only the object that failed is left over (nothing refers to it).
    expect(await imageRows(app, [failing.id, missing.id])).toEqual([]);
    expect(await modelRow(app, product.id, 'glb')).toBeUndefined();
    expect(await real.head(failing.key)).not.toBeNull();
    expect(await real.head(missing.key)).toBeNull();
    expect(await real.head(fine.key)).toBeNull();
  });

  it('drops an abandoned replacement of a ready model and keeps the live model', async () => {
    const staff = await createUser(app, { roles: ['staff'] });
    const product = await createProduct(app, staff, { status: 'active' });
    const live = await client.startModel(product.id, 'glb', glb(), staff);
    await client.confirmModel(product.id, 'glb', staff);
    const fresh = await client.startModel(product.id, 'usdz', usdz(), staff);
    await client.confirmModel(product.id, 'usdz', staff);

    // A replacement upload whose bytes arrived but which was never confirmed. Written to the row
    // directly: how the routes start one is the models service's business.
    const replace = async (format: 'glb' | 'usdz') => {
      const key = `products/${product.id}/models/${format}-replacement.${format}`;
      await app.platform.storage.put(key, format === 'glb' ? glb() : usdz(), {
        contentType: format === 'glb' ? 'model/gltf-binary' : 'model/vnd.usdz+zip',
      });
      await app.platform.db
        .update(productModels)
        .set({ pendingStorageKey: key, pendingStartedAt: clock.now() })
        .where(and(eq(productModels.productId, product.id), eq(productModels.format, format)));
      return key;
    };
    const abandoned = await replace('glb');
    clock.advance(2 * HOUR);
    const recent = await replace('usdz');
    clock.advance(ABANDONED_UPLOAD_AGE_MS - HOUR);

    const sweep = () =>
      purgeAbandonedUploads({
        db: app.platform.db,
        clock,
        storage: app.platform.storage,
        logger: app.platform.logger,
      });
    expect(await sweep()).toEqual({ images: 0, models: 0, replacements: 1, objectsFailed: 0 });
    expect(await modelRow(app, product.id, 'glb')).toMatchObject({
      status: 'ready',
      storageKey: live.key,
      pendingStorageKey: null,
      pendingStartedAt: null,
    });
    expect(await app.platform.storage.head(live.key)).not.toBeNull();
    expect(await app.platform.storage.head(abandoned)).toBeNull();
    // The replacement started 23 h ago stays, and so does the model it would replace.
    expect(await modelRow(app, product.id, 'usdz')).toMatchObject({
      status: 'ready',
      storageKey: fresh.key,
      pendingStorageKey: recent,
    });
    expect(await app.platform.storage.head(recent)).not.toBeNull();
    expect(await sweep()).toEqual({ images: 0, models: 0, replacements: 0, objectsFailed: 0 });
  });
});

describe('abandoned upload schedule', () => {
  const clock = createFakeClock(new Date());
  let app: TestApp;
  let seller: TestUser;
  const client = uploads(
    () => app,
    () => seller,
  );

  beforeAll(async () => {
    app = await buildTestApp({ clock });
    seller = await createUser(app, { roles: ['seller'] });
  });
  afterAll(() => app?.close());

  it('runs catalog.purge-abandoned-uploads every hour', async () => {
    expect(catalogModule.jobs?.map((job) => job.name)).toContain('catalog.purge-abandoned-uploads');
    expect(catalogModule.crons?.map((cron) => [cron.key, cron.job.name])).toContainEqual([
      'catalog.purge-abandoned-uploads',
      'catalog.purge-abandoned-uploads',
    ]);
    const schedules = await waitFor(async () => {
      const all = await app.platform.jobs.boss.getSchedules();
      return all.some((schedule) => schedule.name === 'catalog.purge-abandoned-uploads') && all;
    });
    const schedule = schedules.find((item) => item.name === 'catalog.purge-abandoned-uploads');
    expect(schedule).toMatchObject({ key: 'catalog.purge-abandoned-uploads' });
    // One fixed minute, every hour of every day.
    const [minute, ...rest] = schedule!.cron.split(' ');
    expect(Number(minute)).toBeGreaterThanOrEqual(0);
    expect(Number(minute)).toBeLessThan(60);
    expect(rest).toEqual(['*', '*', '*', '*']);
  });

  it('the job sweeps with the injected clock', async () => {
    const product = await createProduct(app, seller);
    const image = await client.startImage(product.id, PNG);
    clock.advance(ABANDONED_UPLOAD_AGE_MS + HOUR);
    await app.platform.jobs.enqueue(app.platform.db, purgeAbandonedUploadsJob, {});
    await waitFor(async () => (await imageRows(app, [image.id])).length === 0, {
      what: 'the abandoned image to be purged',
    });
    await waitFor(async () => (await app.platform.storage.head(image.key)) === null, {
      what: 'its object to be deleted',
    });
  });
});
