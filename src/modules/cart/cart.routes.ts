import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  AddLineBody,
  Cart,
  CartTokenHeaders,
  LineIdParams,
  RequiredCartTokenHeaders,
  UpdateLineBody,
} from './cart.schemas.ts';
import { type CartCaller, createCartService } from './cart.service.ts';
import { CART_TOKEN_HEADER } from './cart-token.ts';

const TAGS = ['cart'];

const GUEST_RULE = access.public(
  'guests identify their cart with the X-Cart-Token header; a Bearer token selects the user cart',
);

const WHO =
  'Guests send the X-Cart-Token header (the `guestToken` returned when their cart was created); ' +
  'signed-in users send their Bearer token, and with it the X-Cart-Token of a guest cart to merge that cart into theirs (the response then carries `mergeNotes`).';

function callerOf(request: FastifyRequest): CartCaller {
  const token = request.headers[CART_TOKEN_HEADER];
  return {
    principal: request.principal,
    token: typeof token === 'string' && token !== '' ? token : undefined,
  };
}

/** The cart of a guest (by token) or of the signed-in user. */
export function registerCartRoutes(app: AppInstance, services: PlatformServices): void {
  const carts = createCartService({ db: services.db, clock: services.clock });

  app.get(
    '/api/cart',
    {
      config: { access: GUEST_RULE },
      schema: {
        tags: TAGS,
        summary: 'My cart with current prices and availability (an empty view with id null when none)',
        description: `${WHO} Never creates a cart.`,
        headers: CartTokenHeaders,
        response: { 200: Cart },
      },
    },
    async (request) => carts.view(callerOf(request)),
  );

  app.post(
    '/api/cart/lines',
    {
      config: { access: GUEST_RULE },
      schema: {
        tags: TAGS,
        summary: 'Add a product variant (creates the cart; adding a variant again adds to its line)',
        description:
          `${WHO} A guest without a (valid) token gets a new cart, and the response carries \`guestToken\` ` +
          'ONCE: the client must store it and send it as X-Cart-Token from then on. Errors: 404 not_found ' +
          '(unknown variant), 409 product_unavailable, 409 cart_currency_mismatch (one currency per cart), ' +
          '409 insufficient_stock (details: variantId, available), 400 cart_quantity_limit (99 per line).',
        headers: CartTokenHeaders,
        body: AddLineBody,
        response: { 200: Cart },
      },
    },
    async (request) =>
      carts.addLine({
        caller: callerOf(request),
        variantId: request.body.variantId,
        quantity: request.body.quantity,
      }),
  );

  app.patch(
    '/api/cart/lines/:lineId',
    {
      config: { access: GUEST_RULE },
      schema: {
        tags: TAGS,
        summary: 'Set the quantity of a line (1–99; raising it checks availability)',
        description: `${WHO} A line of another cart is 404 not_found; no cart is 404 cart_not_found.`,
        headers: CartTokenHeaders,
        params: LineIdParams,
        body: UpdateLineBody,
        response: { 200: Cart },
      },
    },
    async (request) =>
      carts.updateLine({
        caller: callerOf(request),
        lineId: request.params.lineId,
        quantity: request.body.quantity,
      }),
  );

  app.delete(
    '/api/cart/lines/:lineId',
    {
      config: { access: GUEST_RULE },
      schema: {
        tags: TAGS,
        summary: 'Remove a line',
        description: `${WHO} A line of another cart is 404 not_found; no cart is 404 cart_not_found.`,
        headers: CartTokenHeaders,
        params: LineIdParams,
        response: { 200: Cart },
      },
    },
    async (request) => carts.removeLine({ caller: callerOf(request), lineId: request.params.lineId }),
  );

  app.delete(
    '/api/cart',
    {
      config: { access: GUEST_RULE },
      schema: {
        tags: TAGS,
        summary: 'Empty my cart (it keeps its id; its currency is free again)',
        description: `${WHO} No cart is 404 cart_not_found.`,
        headers: CartTokenHeaders,
        response: { 200: Cart },
      },
    },
    async (request) => carts.clear(callerOf(request)),
  );

  app.post(
    '/api/cart/merge',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: TAGS,
        summary: 'Merge the guest cart of X-Cart-Token into my cart (a second merge is a no-op)',
        description:
          'Quantities add up per variant (at most 99); guest lines in another currency than my cart are ' +
          'dropped and listed in `mergeNotes`, which is present only when this request merged. An unknown ' +
          "token, or one merged into another user's cart, is 404 cart_not_found.",
        headers: RequiredCartTokenHeaders,
        response: { 200: Cart },
      },
    },
    async (request) => {
      const { principal } = request;
      if (!principal) throw new AppError('unauthenticated', 'Sign in to continue');
      return carts.merge({ userId: principal.userId, token: request.headers[CART_TOKEN_HEADER] });
    },
  );
}
