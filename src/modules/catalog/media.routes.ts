import Type from 'typebox';
import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  Image,
  ImageList,
  ImageParams,
  ImageUpload,
  ImageUploadBody,
  ReorderImagesBody,
  UpdateImageBody,
} from './media.schemas.ts';
import { createMediaService } from './media.service.ts';
import { ProductIdParams } from './products.schemas.ts';

const OWNER = "the product's seller, or staff";
const TAGS = ['product media'];

/** Product images: presigned upload, confirm, alt text and order, delete. Reads come with the product. */
export function registerMediaRoutes(app: AppInstance, services: PlatformServices): void {
  const media = createMediaService({
    db: services.db,
    storage: services.storage,
    logger: services.logger,
    clock: services.clock,
  });

  app.post(
    '/api/products/:id/images/uploads',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Start an image upload (JPEG, PNG, WebP, AVIF up to 10 MB): a presigned PUT URL',
        params: ProductIdParams,
        body: ImageUploadBody,
        response: { 201: ImageUpload },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await media.startUpload({
          actor: requirePrincipal(request),
          productId: request.params.id,
          input: request.body,
        }),
      ),
  );

  app.post(
    '/api/products/:id/images/:imageId/confirm',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary:
          'Confirm an uploaded image (checked by its bytes: 422 image_invalid); it joins the end of the order',
        params: ImageParams,
        response: { 200: Image },
      },
    },
    async (request) =>
      media.confirm({
        actor: requirePrincipal(request),
        productId: request.params.id,
        imageId: request.params.imageId,
      }),
  );

  app.patch(
    '/api/products/:id/images/:imageId',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Change alt text or move an image to another place in the order',
        params: ImageParams,
        body: UpdateImageBody,
        response: { 200: Image },
      },
    },
    async (request) =>
      media.update({
        actor: requirePrincipal(request),
        productId: request.params.id,
        imageId: request.params.imageId,
        input: request.body,
      }),
  );

  app.post(
    '/api/products/:id/images/reorder',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Set the image order (every ready image once: 422 image_order_mismatch otherwise)',
        params: ProductIdParams,
        body: ReorderImagesBody,
        response: { 200: ImageList },
      },
    },
    async (request) =>
      media.reorder({
        actor: requirePrincipal(request),
        productId: request.params.id,
        imageIds: request.body.imageIds,
      }),
  );

  app.delete(
    '/api/products/:id/images/:imageId',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Remove an image (the file too)',
        params: ImageParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await media.remove({
        actor: requirePrincipal(request),
        productId: request.params.id,
        imageId: request.params.imageId,
      });
      return reply.status(204).send(null);
    },
  );
}
