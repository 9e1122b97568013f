import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { CheckoutBody, CheckoutHeaders, CheckoutResult } from './checkout.schemas.ts';
import { createCheckoutService } from './checkout.service.ts';

export function registerCheckoutRoutes(app: AppInstance, services: PlatformServices): void {
  const checkout = createCheckoutService(services);

  app.post(
    '/api/checkout',
    {
      config: { access: access.verified() },
      schema: {
        tags: ['checkout'],
        summary:
          'Check out the cart: order pending payment, stock held, payment created; idempotent by Idempotency-Key (else by cart contents)',
        headers: CheckoutHeaders,
        body: CheckoutBody,
        response: { 201: CheckoutResult, 200: CheckoutResult },
      },
    },
    async (request, reply) => {
      const { result, replayed } = await checkout.checkout({
        userId: requirePrincipal(request).userId,
        idempotencyKey: request.headers['idempotency-key'],
        body: request.body,
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(replayed ? 200 : 201).send(result);
    },
  );
}
