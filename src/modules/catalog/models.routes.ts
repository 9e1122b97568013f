import Type from 'typebox';
import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { Model, ModelList, ModelParams, ModelUpload, ModelUploadBody } from './models.schemas.ts';
import { createModelsService } from './models.service.ts';
import { ProductIdParams } from './products.schemas.ts';

const OWNER = "the product's seller, or staff";
const TAGS = ['product media'];

/** 3D/AR models (GLB, USDZ): presigned upload, confirm by magic bytes, signed downloads. */
export function registerModelRoutes(app: AppInstance, services: PlatformServices): void {
  const models = createModelsService({
    db: services.db,
    clock: services.clock,
    storage: services.storage,
    logger: services.logger,
  });

  app.post(
    '/api/products/:id/models/:format/uploads',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary:
          'Start a model upload: a presigned PUT URL (a ready model of the format stays served until the new one is confirmed)',
        params: ModelParams,
        body: ModelUploadBody,
        response: { 201: ModelUpload },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await models.startUpload({
          actor: requirePrincipal(request),
          productId: request.params.id,
          format: request.params.format,
          sizeBytes: request.body.sizeBytes,
        }),
      ),
  );

  app.post(
    '/api/products/:id/models/:format/confirm',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary:
          'Confirm an uploaded model (checked by its bytes: 422 model_invalid deletes the new file and keeps a ready one)',
        params: ModelParams,
        response: { 200: Model },
      },
    },
    async (request) =>
      models.confirm({
        actor: requirePrincipal(request),
        productId: request.params.id,
        format: request.params.format,
      }),
  );

  app.get(
    '/api/products/:id/models',
    {
      config: { access: access.public('models of active products are public (AR viewers)') },
      schema: {
        tags: TAGS,
        summary: 'Ready 3D/AR models of a product with signed download URLs',
        params: ProductIdParams,
        response: { 200: ModelList },
      },
    },
    async (request) => models.list({ actor: request.principal, productId: request.params.id }),
  );

  app.delete(
    '/api/products/:id/models/:format',
    {
      config: { access: access.owner(OWNER) },
      schema: {
        tags: TAGS,
        summary: 'Remove the model of a format (the file too)',
        params: ModelParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await models.remove({
        actor: requirePrincipal(request),
        productId: request.params.id,
        format: request.params.format,
      });
      return reply.status(204).send(null);
    },
  );
}
