import Type from 'typebox';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  Category,
  CategoryIdParams,
  CategoryListQuery,
  CategoryLookupParams,
  CategoryTree,
  CreateCategoryBody,
  MoveCategoryBody,
  UpdateCategoryBody,
} from './categories.schemas.ts';
import { createCategoriesService } from './categories.service.ts';

const PUBLIC = 'the category tree is shop navigation';

/** The public category tree and the staff routes that shape it. */
export function registerCategoryRoutes(app: AppInstance, services: PlatformServices): void {
  const categories = createCategoriesService({ db: services.db, clock: services.clock });

  app.get(
    '/api/categories',
    {
      config: { access: access.public(PUBLIC) },
      schema: {
        tags: ['categories'],
        summary: 'The category tree (nested), or the direct children of ?parent= (flat)',
        querystring: CategoryListQuery,
        response: { 200: CategoryTree },
      },
    },
    async (request) => {
      const { parent } = request.query;
      if (parent === undefined) return { items: await categories.tree() };
      const rows = await categories.children({ parent });
      return { items: rows.map((row) => ({ ...row, children: [] })) };
    },
  );

  app.get(
    '/api/categories/*',
    {
      config: { access: access.public(PUBLIC) },
      schema: {
        tags: ['categories'],
        summary: 'One category by id or slug path (/api/categories/fashion/shoes)',
        params: CategoryLookupParams,
        response: { 200: Category },
      },
    },
    async (request) => categories.get({ idOrSlugPath: request.params['*'] }),
  );

  app.post(
    '/api/admin/categories',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['categories'],
        summary: 'Create a category (the slug comes from the name unless given)',
        body: CreateCategoryBody,
        response: { 201: Category },
      },
    },
    async (request, reply) => reply.status(201).send(await categories.create({ input: request.body })),
  );

  app.patch(
    '/api/admin/categories/:id',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['categories'],
        summary: 'Rename or reslug a category (a new slug rewrites the slug paths of its subtree)',
        params: CategoryIdParams,
        body: UpdateCategoryBody,
        response: { 200: Category },
      },
    },
    async (request) => categories.update({ id: request.params.id, input: request.body }),
  );

  app.post(
    '/api/admin/categories/:id/move',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['categories'],
        summary: 'Move a category with its subtree under another parent (409 category_cycle under itself)',
        params: CategoryIdParams,
        body: MoveCategoryBody,
        response: { 200: Category },
      },
    },
    async (request) => categories.move({ id: request.params.id, input: request.body }),
  );

  app.delete(
    '/api/admin/categories/:id',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['categories'],
        summary: 'Delete an empty category (409 category_not_empty with children or products)',
        params: CategoryIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await categories.remove({ id: request.params.id });
      return reply.status(204).send(null);
    },
  );
}
