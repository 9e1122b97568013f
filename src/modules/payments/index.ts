import type { CaravanModule } from '../../platform/module.ts';
import { registerLocalPayRoutes } from './local-pay.routes.ts';
import { paymentJobs, reconcilePaymentsCron } from './payments.jobs.ts';
import { registerPaymentRoutes } from './payments.routes.ts';
import { paymentProvidersFor } from './provider-registry.ts';

export { checkoutFailureCounter } from './payment-events.service.ts';
export { type PaymentProviders, paymentProvidersFor } from './provider-registry.ts';
export type { CreatedPayment, PaymentProvider } from './providers/payment-provider.port.ts';

export const paymentsModule: CaravanModule = {
  name: 'payments',
  jobs: paymentJobs,
  crons: [reconcilePaymentsCron],
  async routes(app, services) {
    registerPaymentRoutes(app, services);
    registerLocalPayRoutes(app, services);
    // The local provider "sends" its webhooks through our own HTTP stack, signature and all, so the
    // offline flow exercises exactly the path a vendor's webhook takes.
    const providers = await paymentProvidersFor(services);
    providers.local.setDelivery(async (body, headers) => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/payments/webhooks/local',
        payload: body,
        headers,
      });
      return response.statusCode;
    });
  },
};
