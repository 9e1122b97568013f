import Type from 'typebox';
import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { ProductIdParams } from './products.schemas.ts';
import { reviewEligibilityFor } from './review-eligibility.ts';
import {
  CreateReviewBody,
  HideReviewBody,
  ReplyReviewBody,
  Review,
  ReviewIdParams,
  ReviewListQuery,
  ReviewPage,
  UpdateReviewBody,
} from './reviews.schemas.ts';
import { createReviewsService } from './reviews.service.ts';

const TAGS = ['reviews'];

/** Product reviews: public reading, buyers writing, sellers replying, staff moderating. */
export function registerReviewRoutes(app: AppInstance, services: PlatformServices): void {
  const reviews = createReviewsService({
    db: services.db,
    clock: services.clock,
    eligibility: reviewEligibilityFor(services),
  });

  app.get(
    '/api/products/:id/reviews',
    {
      config: { access: access.public('reviews of active products are public') },
      schema: {
        tags: TAGS,
        summary: 'Visible reviews of a product, newest first, with the rating summary',
        params: ProductIdParams,
        querystring: ReviewListQuery,
        response: { 200: ReviewPage },
      },
    },
    async (request) =>
      reviews.list({
        actor: request.principal,
        productId: request.params.id,
        limit: request.query.limit,
        cursor: request.query.cursor,
      }),
  );

  app.post(
    '/api/products/:id/reviews',
    {
      config: { access: access.verified() },
      schema: {
        tags: TAGS,
        summary:
          'Review a product you received (403 review_not_eligible otherwise; one each: 409 review_exists)',
        params: ProductIdParams,
        body: CreateReviewBody,
        response: { 201: Review },
      },
    },
    async (request, reply) =>
      reply.status(201).send(
        await reviews.create({
          actor: requirePrincipal(request),
          productId: request.params.id,
          input: request.body,
        }),
      ),
  );

  app.patch(
    '/api/reviews/:id',
    {
      config: { access: access.owner('the review author') },
      schema: {
        tags: TAGS,
        summary: 'Edit my review (a new rating moves the product rating)',
        params: ReviewIdParams,
        body: UpdateReviewBody,
        response: { 200: Review },
      },
    },
    async (request) =>
      reviews.update({ actor: requirePrincipal(request), id: request.params.id, input: request.body }),
  );

  app.delete(
    '/api/reviews/:id',
    {
      config: { access: access.owner('the review author') },
      schema: {
        tags: TAGS,
        summary: 'Delete my review',
        params: ReviewIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await reviews.remove({ actor: requirePrincipal(request), id: request.params.id });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/reviews/:id/reply',
    {
      config: { access: access.owner("the reviewed product's seller") },
      schema: {
        tags: TAGS,
        summary: 'Reply to a review of my product (one reply; posting again edits it)',
        params: ReviewIdParams,
        body: ReplyReviewBody,
        response: { 200: Review },
      },
    },
    async (request) =>
      reviews.reply({ actor: requirePrincipal(request), id: request.params.id, body: request.body.body }),
  );

  app.post(
    '/api/admin/reviews/:id/hide',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Hide a review (no longer listed or counted; audited)',
        params: ReviewIdParams,
        body: HideReviewBody,
        response: { 200: Review },
      },
    },
    async (request) =>
      reviews.hide({
        actor: requirePrincipal(request),
        id: request.params.id,
        reason: request.body.reason,
        requestId: String(request.id),
      }),
  );

  app.post(
    '/api/admin/reviews/:id/unhide',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Show a hidden review again (audited)',
        params: ReviewIdParams,
        response: { 200: Review },
      },
    },
    async (request) =>
      reviews.unhide({
        actor: requirePrincipal(request),
        id: request.params.id,
        requestId: String(request.id),
      }),
  );
}
