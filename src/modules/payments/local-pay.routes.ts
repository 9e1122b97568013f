import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import { minorToDecimalString } from '../../platform/money/money.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { findOrderParties, findPayment, type PaymentRow } from './payments.repo.ts';
import { paymentProvidersFor } from './provider-registry.ts';

const PageParams = Type.Object({ paymentId: Type.String({ format: 'uuid' }) });
const PageQuery = Type.Object({
  expires: Type.String({ maxLength: 20 }),
  sig: Type.String({ maxLength: 100 }),
});
const ActionParams = Type.Object({
  paymentId: Type.String({ format: 'uuid' }),
  outcome: Type.Union([Type.Literal('pay'), Type.Literal('fail')]),
});

const escapeHtml = (value: string) => value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Caravan test payments</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1d2433}
.card{border:1px solid #d6dae3;border-radius:12px;padding:1.5rem}.amount{font-size:2rem;font-weight:600;margin:.5rem 0 1rem}
button{font-size:1rem;padding:.7rem 1.2rem;border-radius:8px;border:0;cursor:pointer;margin-right:.5rem}
.pay{background:#1a7f37;color:#fff}.fail{background:#eef0f4;color:#b42318}.note{color:#5b6475;font-size:.85rem}</style>
</head><body><div class="card">${body}</div>
<p class="note">Caravan local payments: a stand-in for a card processor. No money moves.</p></body></html>`;
}

const formatAmount = (payment: PaymentRow) =>
  `${minorToDecimalString(payment.amountMinor, payment.currency)} ${payment.currency}`;

/**
 * The local provider's hosted checkout page. Links are signed (only the buyer who got the link
 * from checkout can open it); "pay" and "fail" make the local provider send a signed webhook to
 * our own endpoint, exactly like a vendor's hosted page would.
 */
export function registerLocalPayRoutes(app: AppInstance, services: PlatformServices): void {
  const load = async (paymentId: string, expires: string, sig: string) => {
    const providers = await paymentProvidersFor(services);
    const payment = await findPayment(services.db, paymentId);
    if (payment?.provider !== 'local' || !providers.local.verifyPageLink(paymentId, expires, sig)) {
      throw new AppError('not_found', 'This payment link is invalid or has expired');
    }
    const order = await findOrderParties(services.db, payment.orderId);
    return {
      providers,
      payment,
      orderNumber: order?.number ?? 0,
      orderOpen: order?.status === 'pending_payment',
    };
  };

  app.get(
    '/pay/local/:paymentId',
    {
      config: { access: access.public('the link carries a signature issued at checkout') },
      schema: { hide: true, params: PageParams, querystring: PageQuery },
    },
    async (request, reply) => {
      const { payment, orderNumber, orderOpen } = await load(
        request.params.paymentId,
        request.query.expires,
        request.query.sig,
      );
      reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
      if (payment.status !== 'pending' || !orderOpen) {
        return page(
          'Payment closed',
          `<h1>Order #${orderNumber}</h1><p id="status">This payment is ${escapeHtml(payment.status)}; nothing to pay here.</p>`,
        );
      }
      const hidden = `<input type="hidden" name="expires" value="${escapeHtml(request.query.expires)}"><input type="hidden" name="sig" value="${escapeHtml(request.query.sig)}">`;
      return page(
        `Pay order #${orderNumber}`,
        `<h1>Order #${orderNumber}</h1><div class="amount" id="amount">${escapeHtml(formatAmount(payment))}</div>
<form method="post" action="/pay/local/${payment.id}/pay" style="display:inline">${hidden}<button class="pay" id="pay" type="submit">Pay ${escapeHtml(formatAmount(payment))}</button></form>
<form method="post" action="/pay/local/${payment.id}/fail" style="display:inline">${hidden}<button class="fail" id="fail" type="submit">Decline</button></form>`,
      );
    },
  );

  app.register(async (instance) => {
    const scope = instance.withTypeProvider<TypeBoxTypeProvider>();
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 4096 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    );
    scope.post(
      '/pay/local/:paymentId/:outcome',
      {
        config: { access: access.public('the form carries the signature issued at checkout') },
        schema: { hide: true, params: ActionParams, body: PageQuery },
      },
      async (request, reply) => {
        const { providers, payment, orderNumber, orderOpen } = await load(
          request.params.paymentId,
          request.body.expires,
          request.body.sig,
        );
        reply.header('cache-control', 'no-store').type('text/html; charset=utf-8');
        if (payment.status !== 'pending' || !orderOpen) {
          return page(
            'Payment closed',
            `<h1>Order #${orderNumber}</h1><p id="status">This payment is ${escapeHtml(payment.status)}; nothing was charged.</p>`,
          );
        }
        const data = {
          payment_id: payment.id,
          payment_ref: payment.providerRef ?? `lp_${payment.id}`,
          amount_minor: payment.amountMinor,
          currency: payment.currency,
        };
        if (request.params.outcome === 'pay') {
          await providers.local.emit('payment.captured', data);
          return page(
            'Payment received',
            `<h1>Thank you</h1><p id="status">Payment of ${escapeHtml(formatAmount(payment))} for order #${orderNumber} received.</p>`,
          );
        }
        await providers.local.emit('payment.failed', { ...data, failure_code: 'card_declined' });
        return page(
          'Payment declined',
          `<h1>Payment declined</h1><p id="status">The payment for order #${orderNumber} was declined. You can try again from your cart.</p>`,
        );
      },
    );
  });
}
