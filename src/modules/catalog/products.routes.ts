import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import type { CatalogChanges } from './catalog-changes.ts';
import {
  CreateProductBody,
  MyProductsQuery,
  Product,
  ProductIdParams,
  ProductListQuery,
  ProductLookupParams,
  ProductPage,
  UpdateProductBody,
  UpdateVariantBody,
  VariantInput,
  VariantParams,
} from './products.schemas.ts';
import { type Actor, createProductsService } from './products.service.ts';

/** Another seller's product answers 404, like a missing one. */
const OWNER = "the product's seller, or staff";
const TAGS = ['products'];
/** What Fastify sends with a body it serialized itself: a cached body must be byte-identical. */
const JSON_TYPE = 'application/json; charset=utf-8';

/** Product listing and reads (public), and the seller's own product and variant management. */
export function registerProductRoutes(
  app: AppInstance,
  services: PlatformServices,
  changes: CatalogChanges,
): void {
  const products = createProductsService({
    db: services.db,
    clock: services.clock,
    // The public listing cache (CATALOG_CACHE_*), when enabled.
    listingCache: changes.readCache('listing'),
  });

  // One statement reads the product with its variants and ready images (media.productImages
  // would be a second round trip); the URLs are signed here, as media.productImages signs them.
  // Only single-product reads carry images: signing URLs for every row of a listing is not free.
  async function readSigned(actor: Actor | null, idOrSlug: string) {
    const { product, images } = await products.read({ actor, idOrSlug });
    return {
      ...product,
      images: await Promise.all(
        images.map(async (image) => ({
          id: image.id,
          url: (await services.storage.presignDownload({ key: image.storageKey })).url,
          contentType: image.contentType,
          altText: image.altText,
          position: image.position,
        })),
      ),
    };
  }
  // Anonymous reads only see active products, the same for everyone. A cached body carries
  // presigned image URLs, so an entry lives at most a quarter of their lifetime
  // (STORAGE_URL_TTL_SECONDS): a served URL always has most of its validity left.
  const readCache = services.config.catalog.readCache;
  const productCache = changes.readCache('product', {
    maxAgeMs: Math.min(readCache.maxAgeSeconds, services.config.storage.urlTtlSeconds / 4) * 1000,
    maxEntries: readCache.maxEntries * 10,
  });

  app.get(
    '/api/products',
    {
      config: { access: access.public('the storefront lists active products') },
      schema: {
        tags: TAGS,
        summary: 'Active products, filtered and sorted, a cursor page at a time',
        querystring: ProductListQuery,
        response: { 200: ProductPage },
      },
    },
    async (request, reply) => {
      const cached = products.cachedList({
        query: request.query,
        // The route's compiled response serializer: it returns a string.
        serialize: (page) => reply.serialize(page) as string,
      });
      if (!cached) return products.list({ query: request.query });
      // Already serialized by the same serializer: sent as is (the typed send expects the page).
      return reply.type(JSON_TYPE).send((await cached) as never);
    },
  );

  app.get(
    '/api/products/:idOrSlug',
    {
      config: { access: access.public('active products are public; owners and staff also see the others') },
      schema: {
        tags: TAGS,
        summary: 'One product by id or slug (a draft or archived one only for its seller and staff)',
        params: ProductLookupParams,
        response: { 200: Product },
      },
    },
    async (request, reply) => {
      const { idOrSlug } = request.params;
      // Anonymous readers only see active products, the same for everyone: their answers are
      // cached (a signed-in reader may be the seller or staff looking at a draft).
      if (productCache && !request.principal) {
        const body = await productCache.get(
          idOrSlug,
          async () => reply.serialize(await readSigned(null, idOrSlug)) as string,
        );
        return reply.type(JSON_TYPE).send(body as never);
      }
      return readSigned(request.principal, idOrSlug);
    },
  );

  app.get(
    '/api/me/products',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: TAGS,
        summary: 'My products in any status, newest first',
        querystring: MyProductsQuery,
        response: { 200: ProductPage },
      },
    },
    async (request) =>
      products.listMine({
        actor: requirePrincipal(request),
        status: request.query.status,
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/api/products',
    {
      config: { access: access.verified() },
      schema: {
        tags: TAGS,
        summary: 'Create a draft product (sellers and staff; 403 not_a_seller otherwise)',
        body: CreateProductBody,
        response: { 201: Product },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await products.create({ actor: requirePrincipal(request), input: request.body })),
  );

  app.patch(
    '/api/products/:id',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Change a product (the slug stays)',
        params: ProductIdParams,
        body: UpdateProductBody,
        response: { 200: Product },
      },
    },
    async (request) =>
      products.update({ actor: requirePrincipal(request), id: request.params.id, input: request.body }),
  );

  app.post(
    '/api/products/:id/publish',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Make a product active (needs a category and a variant: 422 product_incomplete)',
        params: ProductIdParams,
        response: { 200: Product },
      },
    },
    async (request) => products.publish({ actor: requirePrincipal(request), id: request.params.id }),
  );

  app.post(
    '/api/products/:id/archive',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Archive a product (hidden from the public; publish brings it back)',
        params: ProductIdParams,
        response: { 200: Product },
      },
    },
    async (request) => products.archive({ actor: requirePrincipal(request), id: request.params.id }),
  );

  app.post(
    '/api/products/:id/variants',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: "Add a variant (own SKU, priced in the product's currency)",
        params: ProductIdParams,
        body: VariantInput,
        response: { 201: Product },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await products.addVariant({
          actor: requirePrincipal(request),
          id: request.params.id,
          input: request.body,
        }),
      ),
  );

  app.patch(
    '/api/products/:id/variants/:variantId',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Change a variant (price changes update the product price)',
        params: VariantParams,
        body: UpdateVariantBody,
        response: { 200: Product },
      },
    },
    async (request) =>
      products.updateVariant({
        actor: requirePrincipal(request),
        id: request.params.id,
        variantId: request.params.variantId,
        input: request.body,
      }),
  );

  app.delete(
    '/api/products/:id/variants/:variantId',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Remove a variant (not the last one of an active product: 422 product_incomplete)',
        params: VariantParams,
        response: { 200: Product },
      },
    },
    async (request) =>
      products.removeVariant({
        actor: requirePrincipal(request),
        id: request.params.id,
        variantId: request.params.variantId,
      }),
  );
}
