import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access, requirePrincipal } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import { hasRole } from '../../platform/http/principal.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { recordProviderEvent } from './payment-events.service.ts';
import {
  findOrderParties,
  listEventsOfPayment,
  listPaymentsOfOrder,
  listRefundsOfOrder,
  type PaymentRow,
  type RefundRow,
} from './payments.repo.ts';
import {
  IdempotencyHeaders,
  OrderIdParams,
  OrderPayments,
  ProviderParams,
  ReconciliationReportView,
  RefundBody,
  RefundView,
  type RefundViewValue,
  WebhookAck,
} from './payments.schemas.ts';
import { paymentProvidersFor } from './provider-registry.ts';
import { reconcilePayments } from './reconciliation.service.ts';
import { refundOrder } from './refunds.service.ts';

const TAGS = ['payments'];

export const refundView = (refund: RefundRow): RefundViewValue => ({
  id: refund.id,
  paymentId: refund.paymentId,
  orderId: refund.orderId,
  amountMinor: refund.amountMinor,
  currency: refund.currency,
  status: refund.status,
  reason: refund.reason,
  providerRef: refund.providerRef,
  failureCode: refund.failureCode,
  createdAt: refund.createdAt,
  settledAt: refund.settledAt,
});

const paymentView = (payment: PaymentRow) => ({
  id: payment.id,
  orderId: payment.orderId,
  provider: payment.provider,
  status: payment.status,
  amountMinor: payment.amountMinor,
  currency: payment.currency,
  capturedMinor: payment.capturedMinor,
  refundedMinor: payment.refundedMinor,
  redirectUrl: payment.status === 'pending' ? payment.redirectUrl : null,
  failureCode: payment.failureCode,
  createdAt: payment.createdAt,
  updatedAt: payment.updatedAt,
});

export function registerPaymentRoutes(app: AppInstance, services: PlatformServices): void {
  // Webhooks need the exact bytes the vendor signed: an encapsulated scope whose parser keeps the
  // body as a Buffer (everywhere else JSON parsing is untouched).
  app.register(async (instance) => {
    const scope = instance.withTypeProvider<TypeBoxTypeProvider>();
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post(
      '/api/payments/webhooks/:provider',
      {
        config: {
          access: access.public(
            'the provider signs the raw body; an unsigned or forged request gets 400 and writes nothing',
          ),
        },
        schema: {
          tags: TAGS,
          summary:
            'Provider webhook (stripe, paypal, local): verified on the raw body, recorded once by event id, processed by a job',
          params: ProviderParams,
          response: { 200: WebhookAck },
        },
      },
      async (request) => {
        const providers = await paymentProvidersFor(services);
        const name = request.params.provider;
        if (!providers.has(name)) throw new AppError('not_found', 'No such payment provider');
        const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const event = await providers.get(name).verifyWebhook({ rawBody, headers: request.headers });
        const { duplicate } = await recordProviderEvent(services, name, event, 'webhook');
        return { received: true, duplicate };
      },
    );
  });

  app.get(
    '/api/orders/:id/payments',
    {
      config: { access: access.owner('the order’s buyer, or staff') },
      schema: {
        tags: TAGS,
        summary: 'Payments and refunds of an order (provider events too, for staff)',
        params: OrderIdParams,
        response: { 200: OrderPayments },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const staff = hasRole(principal, 'staff', 'admin');
      const parties = await findOrderParties(services.db, request.params.id);
      if (!parties || (!staff && parties.buyerId !== principal.userId)) {
        throw new AppError('not_found', 'No such order');
      }
      const payments = await listPaymentsOfOrder(services.db, request.params.id);
      const refunds = await listRefundsOfOrder(services.db, request.params.id);
      const events = staff
        ? (await Promise.all(payments.map((payment) => listEventsOfPayment(services.db, payment.id)))).flat()
        : [];
      return {
        payments: payments.map(paymentView),
        refunds: refunds.map(refundView),
        events: events.map((event) => ({
          provider: event.provider,
          eventId: event.eventId,
          type: event.type,
          action: event.action,
          source: event.source,
          occurredAt: event.occurredAt,
          receivedAt: event.receivedAt,
          outcome: event.outcome,
        })),
      };
    },
  );

  app.post(
    '/api/admin/orders/:id/refunds',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary:
          'Refund an order in full (no amount) or in part; idempotent by Idempotency-Key; settles when the provider confirms',
        params: OrderIdParams,
        headers: IdempotencyHeaders,
        body: RefundBody,
        response: { 202: RefundView },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request);
      const refund = await refundOrder(services, {
        orderId: request.params.id,
        amountMinor: request.body.amountMinor,
        reason: request.body.reason ?? null,
        staffId: principal.userId,
        idempotencyKey: request.headers['idempotency-key'],
      });
      return reply.status(202).send(refundView(refund));
    },
  );

  app.post(
    '/api/admin/payments/reconcile',
    {
      config: { access: access.staff() },
      schema: {
        tags: TAGS,
        summary: 'Run payment reconciliation now (it also runs every 15 minutes)',
        response: { 200: ReconciliationReportView },
      },
    },
    async () => reconcilePayments(services, await paymentProvidersFor(services)),
  );
}
