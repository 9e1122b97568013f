import { randomBytes, randomUUID } from 'node:crypto';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakePayPal,
  type PayPalWebhookEvent,
  type SignedDelivery,
  startFakePayPal,
} from '../../../../test/fakes/paypal-server.ts';
import { createFakeClock, type FakeClock } from '../../../platform/clock/clock.ts';
import { AppError } from '../../../platform/errors/index.ts';
import type { CreatePaymentInput, PaymentProvider, WebhookRequest } from './payment-provider.port.ts';
import { createPayPalProvider } from './paypal.provider.ts';
import { crc32, crc32Portable } from './paypal-webhook-verify.ts';

const PUBLIC_URL = 'https://shop.example.com';

function paymentInput(overrides: Partial<CreatePaymentInput> = {}): CreatePaymentInput {
  return {
    paymentId: randomUUID(),
    orderId: randomUUID(),
    orderNumber: 1042,
    amountMinor: 2599,
    currency: 'USD',
    description: 'Order #1042',
    buyerEmail: 'buyer@example.com',
    lines: [{ title: 'Stoneware mug', quantity: 2, unitPriceMinor: 1000 }],
    returnUrl: '/checkout/paypal/return',
    cancelUrl: `${PUBLIC_URL}/checkout/paypal/cancel`,
    idempotencyKey: `pay-${randomUUID()}`,
    ...overrides,
  };
}

function delivery(signed: SignedDelivery): WebhookRequest {
  return { rawBody: signed.body, headers: signed.headers };
}

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

function createdOrderBodies(fake: FakePayPal) {
  return fake.requests.filter(
    (request) => request.method === 'POST' && request.path === '/v2/checkout/orders',
  );
}

/** purchase_units[0] of the last create-order request the fake received. */
function lastCreatedUnit(fake: FakePayPal): Record<string, unknown> {
  const body = createdOrderBodies(fake).at(-1)?.body as
    | { purchase_units?: Record<string, unknown>[] }
    | undefined;
  const unit = body?.purchase_units?.[0];
  if (!unit) throw new Error('no create-order request recorded');
  return unit;
}

function lastEvent(fake: FakePayPal, type: string): PayPalWebhookEvent {
  const event = fake.events.filter((candidate) => candidate.event_type === type).at(-1);
  if (!event) throw new Error(`no ${type} event recorded`);
  return event;
}

describe('PayPal provider against the loopback fake', () => {
  let fake: FakePayPal;
  let clock: FakeClock;
  let provider: PaymentProvider;

  beforeAll(async () => {
    clock = createFakeClock('2026-06-01T12:00:00Z');
    fake = await startFakePayPal({ clock });
    provider = await createPayPalProvider({
      config: {
        clientId: fake.clientId,
        clientSecret: fake.clientSecret,
        webhookId: fake.webhookId,
        environment: 'sandbox',
        apiBaseUrl: fake.baseUrl,
      },
      clock,
      publicUrl: PUBLIC_URL,
    });
  });

  afterAll(async () => {
    await fake?.close();
  });

  /** Creates an order through the provider and approves it on the fake, as the buyer would. */
  async function approvedPayment(overrides: Partial<CreatePaymentInput> = {}) {
    const input = paymentInput(overrides);
    const created = await provider.createPayment(input);
    const approval = fake.approveOrder(created.providerRef);
    return { input, created, approval };
  }

  async function capturedPayment(overrides: Partial<CreatePaymentInput> = {}) {
    const approved = await approvedPayment(overrides);
    await provider.capturePayment?.({
      providerRef: approved.created.providerRef,
      idempotencyKey: randomUUID(),
    });
    const captureId = fake.captureIdOf(approved.created.providerRef);
    if (!captureId) throw new Error('capture did not happen');
    return { ...approved, captureId };
  }

  describe('createPayment', () => {
    it('creates a CAPTURE order with decimal USD amounts, our ids and the request id', async () => {
      const input = paymentInput();
      const created = await provider.createPayment(input);

      expect(created.providerRef).toMatch(/^[A-Z0-9]{17}$/);
      expect(created.redirectUrl).toBe(`${fake.baseUrl}/checkoutnow?token=${created.providerRef}`);
      expect(created.clientSecret).toBeNull();
      const sent = createdOrderBodies(fake).at(-1);
      expect(sent?.headers['paypal-request-id']).toBe(input.idempotencyKey);
      expect(sent?.status).toBe(201);
      expect(sent?.body).toEqual({
        intent: 'CAPTURE',
        purchase_units: [
          {
            reference_id: input.orderId,
            custom_id: input.paymentId,
            invoice_id: `order-1042-${input.paymentId.slice(0, 8)}`,
            description: 'Order #1042',
            amount: {
              currency_code: 'USD',
              value: '25.99',
              breakdown: {
                item_total: { currency_code: 'USD', value: '20.00' },
                shipping: { currency_code: 'USD', value: '5.99' },
              },
            },
            items: [
              { name: 'Stoneware mug', quantity: '2', unit_amount: { currency_code: 'USD', value: '10.00' } },
            ],
          },
        ],
        payment_source: {
          paypal: {
            experience_context: {
              return_url: `${PUBLIC_URL}/checkout/paypal/return`,
              cancel_url: `${PUBLIC_URL}/checkout/paypal/cancel`,
              user_action: 'PAY_NOW',
            },
          },
        },
      });
      expect(fake.order(created.providerRef)?.status).toBe('PAYER_ACTION_REQUIRED');
    });

    it('sends a zero-decimal currency (JPY) without decimals and a 3-decimal one (KWD) with three', async () => {
      const yen = paymentInput({
        currency: 'JPY',
        amountMinor: 3500,
        lines: [{ title: '湯呑み', quantity: 1, unitPriceMinor: 3000 }],
      });
      await provider.createPayment(yen);
      const yenUnit = lastCreatedUnit(fake);
      expect(yenUnit?.amount).toEqual({
        currency_code: 'JPY',
        value: '3500',
        breakdown: {
          item_total: { currency_code: 'JPY', value: '3000' },
          shipping: { currency_code: 'JPY', value: '500' },
        },
      });
      expect(yenUnit?.items).toEqual([
        { name: '湯呑み', quantity: '1', unit_amount: { currency_code: 'JPY', value: '3000' } },
      ]);

      const dinar = paymentInput({
        currency: 'KWD',
        amountMinor: 12_345,
        lines: [{ title: 'Lamp', quantity: 3, unitPriceMinor: 4115 }],
      });
      await provider.createPayment(dinar);
      const dinarUnit = lastCreatedUnit(fake);
      expect(dinarUnit?.amount).toEqual({
        currency_code: 'KWD',
        value: '12.345',
        breakdown: { item_total: { currency_code: 'KWD', value: '12.345' } },
      });
    });

    it('puts a discount in the breakdown when the order costs less than its lines', async () => {
      const input = paymentInput({
        amountMinor: 1800,
        lines: [{ title: 'Mug', quantity: 2, unitPriceMinor: 1000 }],
      });
      const created = await provider.createPayment(input);
      expect(fake.order(created.providerRef)?.status).toBe('PAYER_ACTION_REQUIRED');
      const unit = lastCreatedUnit(fake);
      expect(unit?.amount).toMatchObject({
        value: '18.00',
        breakdown: { item_total: { value: '20.00' }, discount: { value: '2.00' } },
      });
    });

    it('returns the same PayPal order when a create is retried with the same key', async () => {
      const input = paymentInput();
      const first = await provider.createPayment(input);
      const retried = await provider.createPayment({ ...input });
      const other = await provider.createPayment({ ...input, idempotencyKey: `pay-${randomUUID()}` });

      expect(retried.providerRef).toBe(first.providerRef);
      expect(retried.redirectUrl).toBe(first.redirectUrl);
      expect(other.providerRef).not.toBe(first.providerRef);
      const sameKey = createdOrderBodies(fake).filter(
        (request) => request.headers['paypal-request-id'] === input.idempotencyKey,
      );
      expect(sameKey).toHaveLength(2);
    });

    it("reports PayPal's refusal as payment_provider_error with name, issue and debug_id", async () => {
      fake.failNext(422, 'UNPROCESSABLE_ENTITY', 'PAYEE_ACCOUNT_RESTRICTED');
      const error = await rejection(provider.createPayment(paymentInput()));
      expect(error.code).toBe('payment_provider_error');
      expect(error.status).toBe(502);
      expect(error.details).toMatchObject({
        operation: 'create_order',
        status: 422,
        name: 'UNPROCESSABLE_ENTITY',
        issue: 'PAYEE_ACCOUNT_RESTRICTED',
        debugId: expect.stringMatching(/^[0-9a-f]{14}$/),
      });
    });
  });

  describe('approve → authorized → capture → captured', () => {
    it('maps the approval, captures, and maps the capture', async () => {
      const { input, created, approval } = await approvedPayment();

      const authorized = await provider.verifyWebhook(delivery(fake.signedDelivery(approval)));
      expect(authorized).toMatchObject({
        eventId: approval.id,
        type: 'CHECKOUT.ORDER.APPROVED',
        action: 'authorized',
        paymentRef: created.providerRef,
        ourPaymentId: input.paymentId,
        amountMinor: 2599,
        currency: 'USD',
        refund: null,
        failureCode: null,
      });
      expect(authorized.occurredAt.toISOString()).toBe(approval.create_time);
      expect(authorized.payload).toEqual(approval);

      const key = `capture-${randomUUID()}`;
      await provider.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: key });
      const captureCall = fake.requests.at(-1);
      expect(captureCall).toMatchObject({
        method: 'POST',
        path: `/v2/checkout/orders/${created.providerRef}/capture`,
        status: 201,
      });
      expect(captureCall?.headers['paypal-request-id']).toBe(key);
      expect(fake.order(created.providerRef)?.status).toBe('COMPLETED');

      const completed = lastEvent(fake, 'PAYMENT.CAPTURE.COMPLETED');
      const captured = await provider.verifyWebhook(delivery(fake.signedDelivery(completed)));
      expect(captured).toMatchObject({
        eventId: completed.id,
        action: 'captured',
        paymentRef: created.providerRef,
        secondaryRef: fake.captureIdOf(created.providerRef),
        ourPaymentId: input.paymentId,
        amountMinor: 2599,
        currency: 'USD',
      });
    });

    it('treats a capture of an already captured order as done (same key replayed, or a new key)', async () => {
      const { created } = await approvedPayment();
      const key = randomUUID();
      await provider.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: key });
      const capturesBefore = fake.events.filter(
        (event) => event.event_type === 'PAYMENT.CAPTURE.COMPLETED',
      ).length;

      await expect(
        provider.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: key }),
      ).resolves.toBeUndefined();
      await expect(
        provider.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: randomUUID() }),
      ).resolves.toBeUndefined();

      const lastCall = fake.requests.at(-1);
      expect(lastCall?.status).toBe(422);
      expect(lastCall?.path).toBe(`/v2/checkout/orders/${created.providerRef}/capture`);
      expect(fake.events.filter((event) => event.event_type === 'PAYMENT.CAPTURE.COMPLETED')).toHaveLength(
        capturesBefore,
      );
    });

    it('refuses to capture an order the buyer has not approved', async () => {
      const created = await provider.createPayment(paymentInput());
      const error = await rejection(
        provider.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: randomUUID() }) ??
          Promise.resolve(),
      );
      expect(error.code).toBe('payment_provider_error');
      expect(error.details).toMatchObject({
        operation: 'capture_order',
        status: 422,
        issue: 'ORDER_NOT_APPROVED',
      });
    });

    it('maps a declined capture and a later denied capture to failed', async () => {
      const { created } = await approvedPayment();
      expect(fake.denyCapture(created.providerRef)).toBeNull();
      await provider.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: randomUUID() });
      const declined = await provider.verifyWebhook(
        delivery(fake.signedDelivery(lastEvent(fake, 'PAYMENT.CAPTURE.DECLINED'))),
      );
      expect(declined).toMatchObject({
        action: 'failed',
        paymentRef: created.providerRef,
        secondaryRef: fake.captureIdOf(created.providerRef),
        failureCode: '5120',
      });

      const { created: other, captureId } = await capturedPayment();
      const deniedEvent = fake.denyCapture(other.providerRef);
      if (!deniedEvent) throw new Error('expected a DENIED event');
      const denied = await provider.verifyWebhook(delivery(fake.signedDelivery(deniedEvent)));
      expect(denied).toMatchObject({
        type: 'PAYMENT.CAPTURE.DENIED',
        action: 'failed',
        paymentRef: other.providerRef,
        secondaryRef: captureId,
        failureCode: 'DENIED',
      });
    });

    it('maps a voided order to canceled and cancelPayment never throws', async () => {
      const { input, created } = await approvedPayment();
      await expect(
        provider.cancelPayment({ providerRef: created.providerRef, idempotencyKey: randomUUID() }),
      ).resolves.toBeUndefined();
      await expect(
        provider.cancelPayment({ providerRef: 'NO-SUCH-ORDER', idempotencyKey: randomUUID() }),
      ).resolves.toBeUndefined();

      const voided = await provider.verifyWebhook(
        delivery(fake.signedDelivery(fake.voidOrder(created.providerRef))),
      );
      expect(voided).toMatchObject({
        action: 'canceled',
        paymentRef: created.providerRef,
        ourPaymentId: input.paymentId,
      });
    });
  });

  describe('refunds', () => {
    it('refunds in full, finding the capture through the order when no capture id is known', async () => {
      const { input, created, captureId } = await capturedPayment();
      const refundId = randomUUID();
      const key = `refund-${randomUUID()}`;
      const result = await provider.refund({
        providerRef: created.providerRef,
        secondaryRef: null,
        amountMinor: 2599,
        currency: 'USD',
        idempotencyKey: key,
        reason: 'Customer changed their mind',
        refundId,
      });

      expect(result.status).toBe('succeeded');
      expect(result.refundRef).toMatch(/^[A-Z0-9]{17}$/);
      const [lookup, refundCall] = fake.requests.slice(-2);
      expect(lookup).toMatchObject({ method: 'GET', path: `/v2/checkout/orders/${created.providerRef}` });
      expect(refundCall).toMatchObject({
        method: 'POST',
        path: `/v2/payments/captures/${captureId}/refund`,
        body: {
          amount: { currency_code: 'USD', value: '25.99' },
          invoice_id: `refund-${refundId}`,
          note_to_payer: 'Customer changed their mind',
        },
      });
      expect(refundCall?.headers['paypal-request-id']).toBe(key);

      const refunded = await provider.verifyWebhook(
        delivery(fake.signedDelivery(lastEvent(fake, 'PAYMENT.CAPTURE.REFUNDED'))),
      );
      expect(refunded).toMatchObject({
        action: 'refunded',
        paymentRef: null,
        secondaryRef: captureId,
        ourPaymentId: input.paymentId,
        amountMinor: 2599,
        currency: 'USD',
        refund: { refundRef: result.refundRef, amountMinor: 2599, totalRefundedMinor: null },
      });
    });

    it('refunds partially, twice, replays a retried refund and refuses more than is left', async () => {
      const { captureId, created } = await capturedPayment({ currency: 'JPY', amountMinor: 5000, lines: [] });
      const base = {
        providerRef: created.providerRef,
        secondaryRef: captureId,
        currency: 'JPY',
        reason: null,
      };
      const firstKey = randomUUID();
      const first = await provider.refund({
        ...base,
        amountMinor: 1200,
        idempotencyKey: firstKey,
        refundId: randomUUID(),
      });
      expect(fake.requests.at(-1)?.body).toMatchObject({ amount: { currency_code: 'JPY', value: '1200' } });
      const replay = await provider.refund({
        ...base,
        amountMinor: 1200,
        idempotencyKey: firstKey,
        refundId: randomUUID(),
      });
      expect(replay).toEqual(first);
      const second = await provider.refund({
        ...base,
        amountMinor: 800,
        idempotencyKey: randomUUID(),
        refundId: randomUUID(),
      });
      expect(second.status).toBe('succeeded');
      expect(second.refundRef).not.toBe(first.refundRef);

      const refundEvents = fake.events.filter(
        (event) =>
          event.event_type === 'PAYMENT.CAPTURE.REFUNDED' &&
          JSON.stringify(event.resource).includes(captureId),
      );
      expect(refundEvents).toHaveLength(2);
      const mapped = await provider.verifyWebhook(
        delivery(fake.signedDelivery(refundEvents[1] as PayPalWebhookEvent)),
      );
      expect(mapped.refund).toEqual({
        refundRef: second.refundRef,
        amountMinor: 800,
        totalRefundedMinor: null,
      });

      const error = await rejection(
        provider.refund({ ...base, amountMinor: 3001, idempotencyKey: randomUUID(), refundId: randomUUID() }),
      );
      expect(error.details).toMatchObject({
        operation: 'refund',
        status: 422,
        issue: 'REFUND_AMOUNT_EXCEEDED',
      });
    });

    it('maps PENDING and FAILED refund statuses', async () => {
      const { captureId, created } = await capturedPayment();
      const refund = (amountMinor: number) =>
        provider.refund({
          providerRef: created.providerRef,
          secondaryRef: captureId,
          amountMinor,
          currency: 'USD',
          idempotencyKey: randomUUID(),
          reason: null,
          refundId: randomUUID(),
        });
      fake.nextRefundStatus('PENDING');
      expect((await refund(100)).status).toBe('pending');
      fake.nextRefundStatus('FAILED');
      expect((await refund(100)).status).toBe('failed');
    });
  });

  describe('disputes and other events', () => {
    it('maps a dispute opening and its resolution', async () => {
      const { input, captureId } = await capturedPayment();
      const opened = fake.openDispute(captureId, { amountMinor: 1000 });
      const disputed = await provider.verifyWebhook(delivery(fake.signedDelivery(opened)));
      const disputeId = (opened.resource as { dispute_id: string }).dispute_id;
      expect(disputed).toMatchObject({
        action: 'disputed',
        disputeRef: disputeId,
        secondaryRef: captureId,
        ourPaymentId: input.paymentId,
        amountMinor: 1000,
        currency: 'USD',
      });
      const closed = await provider.verifyWebhook(
        delivery(fake.signedDelivery(fake.resolveDispute(disputeId))),
      );
      expect(closed).toMatchObject({
        action: 'dispute_closed',
        disputeRef: disputeId,
        secondaryRef: captureId,
      });
    });

    it('ignores PAYMENT.CAPTURE.PENDING and event types it does not use', async () => {
      const { captureId } = await capturedPayment();
      const completed = fake.events.find(
        (event) => event.event_type === 'PAYMENT.CAPTURE.COMPLETED' && event.resource.id === captureId,
      );
      if (!completed) throw new Error('capture event missing');
      const pendingEvent: PayPalWebhookEvent = {
        ...completed,
        id: `WH-${randomUUID()}`,
        event_type: 'PAYMENT.CAPTURE.PENDING',
      };
      expect((await provider.verifyWebhook(delivery(fake.signedDelivery(pendingEvent)))).action).toBe(
        'ignored',
      );
      const other: PayPalWebhookEvent = {
        ...pendingEvent,
        id: `WH-${randomUUID()}`,
        event_type: 'BILLING.PLAN.CREATED',
      };
      const mapped = await provider.verifyWebhook(delivery(fake.signedDelivery(other)));
      expect(mapped).toMatchObject({ action: 'ignored', type: 'BILLING.PLAN.CREATED', eventId: other.id });
    });
  });

  describe('forged webhooks', () => {
    let genuine: PayPalWebhookEvent;

    beforeAll(async () => {
      genuine = (await approvedPayment()).approval;
    });

    async function expectRejected(request: WebhookRequest, reason: string | RegExp): Promise<void> {
      const error = await rejection(provider.verifyWebhook(request));
      expect(error.code).toBe('webhook_signature_invalid');
      expect(error.status).toBe(400);
      expect(String(error.details?.reason)).toMatch(reason);
    }

    it('accepts the genuine delivery (the baseline the forgeries differ from)', async () => {
      await expect(provider.verifyWebhook(delivery(fake.signedDelivery(genuine)))).resolves.toMatchObject({
        eventId: genuine.id,
      });
    });

    it('rejects a delivery without a signature or without any PayPal headers', async () => {
      const signed = fake.signedDelivery(genuine);
      const { 'paypal-transmission-sig': _signature, ...unsigned } = signed.headers;
      await expectRejected({ rawBody: signed.body, headers: unsigned }, /missing/);
      await expectRejected(
        { rawBody: signed.body, headers: { 'content-type': 'application/json' } },
        /missing/,
      );
    });

    it('rejects a signature made with another key', async () => {
      await expectRejected(delivery(fake.signedDelivery(genuine, { wrongKey: true })), /signature/);
    });

    it('rejects a body changed by one byte', async () => {
      const signed = fake.signedDelivery(genuine, { tamper: true });
      expect(JSON.parse(signed.body.toString('utf8'))).toBeTypeOf('object');
      expect(signed.body.equals(Buffer.from(JSON.stringify(genuine)))).toBe(false);
      await expectRejected(delivery(signed), /signature/);
    });

    it('rejects an event signed for another webhook id', async () => {
      await expectRejected(
        delivery(fake.signedDelivery(genuine, { webhookId: 'WH-SOMEONE-ELSE' })),
        /signature/,
      );
    });

    it('rejects a certificate URL on another origin without fetching it', async () => {
      const elsewhere = await startFakePayPal({ clock });
      try {
        const certPath = new URL(fake.certUrl).pathname;
        await expectRejected(
          delivery(fake.signedDelivery(genuine, { certUrl: `${elsewhere.baseUrl}${certPath}` })),
          /not trusted/,
        );
        const sameHostOtherName = fake.certUrl.replace('127.0.0.1', 'localhost');
        await expectRejected(
          delivery(fake.signedDelivery(genuine, { certUrl: sameHostOtherName })),
          /not trusted/,
        );
        await expectRejected(
          delivery(fake.signedDelivery(genuine, { certUrl: `https://api.sandbox.paypal.com${certPath}` })),
          /not trusted/,
        );
        expect(elsewhere.requests).toHaveLength(0);
      } finally {
        await elsewhere.close();
      }
    });

    it('rejects transmission times older than 5 minutes or more than 30 s ahead', async () => {
      const now = clock.now().getTime();
      const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();
      await expectRejected(
        delivery(fake.signedDelivery(genuine, { transmissionTime: at(-5 * 60_000 - 1000) })),
        /old/,
      );
      await expectRejected(
        delivery(fake.signedDelivery(genuine, { transmissionTime: at(31_000) })),
        /future/,
      );
      await expectRejected(
        delivery(fake.signedDelivery(genuine, { transmissionTime: 'yesterday' })),
        /unreadable/,
      );
      await expect(
        provider.verifyWebhook(delivery(fake.signedDelivery(genuine, { transmissionTime: at(-4 * 60_000) }))),
      ).resolves.toMatchObject({ eventId: genuine.id });
      await expect(
        provider.verifyWebhook(delivery(fake.signedDelivery(genuine, { transmissionTime: at(20_000) }))),
      ).resolves.toMatchObject({ eventId: genuine.id });
    });

    it('rejects another signing algorithm', async () => {
      const signed = fake.signedDelivery(genuine);
      await expectRejected(
        { rawBody: signed.body, headers: { ...signed.headers, 'paypal-auth-algo': 'SHA1withRSA' } },
        /algorithm/,
      );
    });

    it('fetches the certificate once and serves later deliveries from the cache', async () => {
      await provider.verifyWebhook(delivery(fake.signedDelivery(genuine)));
      await provider.verifyWebhook(delivery(fake.signedDelivery(genuine)));
      const certPath = new URL(fake.certUrl).pathname;
      expect(fake.requests.filter((request) => request.path === certPath)).toHaveLength(1);
    });
  });

  describe('listEvents', () => {
    it('lists recorded events since a time, oldest first, across pages, mapped like webhooks', async () => {
      const listClock = createFakeClock('2026-07-01T08:00:00Z');
      const own = await startFakePayPal({ clock: listClock });
      try {
        const listing = await createPayPalProvider({
          config: {
            clientId: own.clientId,
            clientSecret: own.clientSecret,
            webhookId: own.webhookId,
            environment: 'sandbox',
            apiBaseUrl: own.baseUrl,
          },
          clock: listClock,
          publicUrl: PUBLIC_URL,
        });
        const input = paymentInput();
        const created = await listing.createPayment(input);
        listClock.advance(60_000);
        own.approveOrder(created.providerRef);
        listClock.advance(60_000);
        await listing.capturePayment?.({ providerRef: created.providerRef, idempotencyKey: randomUUID() });
        listClock.advance(60_000);
        await listing.refund({
          providerRef: created.providerRef,
          secondaryRef: null,
          amountMinor: 500,
          currency: 'USD',
          idempotencyKey: randomUUID(),
          reason: null,
          refundId: randomUUID(),
        });
        listClock.advance(60_000);

        const all = await listing.listEvents({ since: new Date('2026-07-01T07:00:00Z'), limit: 100 });
        expect(all.map((event) => [event.type, event.action])).toEqual([
          ['CHECKOUT.ORDER.APPROVED', 'authorized'],
          ['PAYMENT.CAPTURE.COMPLETED', 'captured'],
          ['PAYMENT.CAPTURE.REFUNDED', 'refunded'],
        ]);
        expect(all.map((event) => event.eventId)).toEqual(own.events.map((event) => event.id));
        expect(all[1]).toMatchObject({
          paymentRef: created.providerRef,
          ourPaymentId: input.paymentId,
          amountMinor: 2599,
        });

        // limit 2 → pages of 2: the provider follows the next link and still returns the oldest two.
        const listCallsBefore = own.requests.filter(
          (request) => request.path === '/v1/notifications/webhooks-events',
        );
        const oldestTwo = await listing.listEvents({ since: new Date('2026-07-01T07:00:00Z'), limit: 2 });
        expect(oldestTwo.map((event) => event.type)).toEqual([
          'CHECKOUT.ORDER.APPROVED',
          'PAYMENT.CAPTURE.COMPLETED',
        ]);
        const listCalls = own.requests.filter(
          (request) => request.path === '/v1/notifications/webhooks-events',
        );
        expect(listCalls.length - listCallsBefore.length).toBe(2);
        expect(listCalls.at(-1)?.query).toMatchObject({
          page_size: '2',
          start_time: '2026-07-01T07:00:00.000Z',
        });

        const since = await listing.listEvents({ since: new Date('2026-07-01T08:01:30Z'), limit: 100 });
        expect(since.map((event) => event.type)).toEqual([
          'PAYMENT.CAPTURE.COMPLETED',
          'PAYMENT.CAPTURE.REFUNDED',
        ]);

        // One OAuth token for the SDK calls and the list calls alike, while it is valid…
        const tokenCalls = () => own.requests.filter((request) => request.path === '/v1/oauth2/token').length;
        expect(tokenCalls()).toBe(1);
        for (const call of own.requests.filter((request) => request.path !== '/v1/oauth2/token')) {
          expect(call.headers.authorization).toMatch(/^Bearer A21AA/);
        }
        // …and a new one once it has expired (PayPal's tokens last 9 hours).
        listClock.advance(9 * 3600_000);
        await listing.listEvents({ since: new Date('2026-07-01T07:00:00Z'), limit: 100 });
        await listing.createPayment(paymentInput());
        expect(tokenCalls()).toBe(2);
      } finally {
        await own.close();
      }
    });
  });

  describe('credentials', () => {
    function freshProvider(): Promise<PaymentProvider> {
      return createPayPalProvider({
        config: {
          clientId: fake.clientId,
          clientSecret: fake.clientSecret,
          webhookId: fake.webhookId,
          environment: 'sandbox',
          apiBaseUrl: fake.baseUrl,
        },
        clock,
        publicUrl: PUBLIC_URL,
      });
    }

    it('recovers after the token endpoint failed once', async () => {
      const fresh = await freshProvider();
      fake.failNext(503, 'SERVICE_UNAVAILABLE');
      const error = await rejection(fresh.createPayment(paymentInput()));
      expect(error.details).toMatchObject({
        operation: 'oauth2_token',
        status: 503,
        name: 'SERVICE_UNAVAILABLE',
      });
      const created = await fresh.createPayment(paymentInput());
      expect(fake.order(created.providerRef)).toBeDefined();
    });

    it('fetches a new token and retries once when PayPal stops taking the cached one', async () => {
      const fresh = await freshProvider();
      await fresh.createPayment(paymentInput());
      const tokenCalls = () => fake.requests.filter((request) => request.path === '/v1/oauth2/token').length;
      const before = tokenCalls();

      fake.revokeTokens();
      const created = await fresh.createPayment(paymentInput());
      expect(fake.order(created.providerRef)).toBeDefined();
      const [refused, token, retried] = fake.requests.slice(-3);
      expect(refused).toMatchObject({ path: '/v2/checkout/orders', status: 401 });
      expect(token).toMatchObject({ path: '/v1/oauth2/token', status: 200 });
      expect(retried).toMatchObject({ path: '/v2/checkout/orders', status: 201 });
      expect(retried?.headers['paypal-request-id']).toBe(refused?.headers['paypal-request-id']);

      fake.revokeTokens();
      await expect(fresh.listEvents({ since: clock.now(), limit: 5 })).resolves.toBeInstanceOf(Array);
      expect(tokenCalls()).toBe(before + 2);
    });

    it('fails with payment_provider_error on wrong credentials and never echoes a secret', async () => {
      const wrong = await createPayPalProvider({
        config: {
          clientId: fake.clientId,
          clientSecret: 'definitely-not-the-secret',
          webhookId: fake.webhookId,
          environment: 'sandbox',
          apiBaseUrl: fake.baseUrl,
        },
        clock,
        publicUrl: PUBLIC_URL,
      });
      const createError = await rejection(wrong.createPayment(paymentInput()));
      const listError = await rejection(wrong.listEvents({ since: new Date(0), limit: 10 }));
      for (const error of [createError, listError]) {
        expect(error.code).toBe('payment_provider_error');
        expect(error.details).toMatchObject({ status: 401, name: 'invalid_client' });
        const visible = JSON.stringify({
          message: error.message,
          details: error.details,
          cause: error.cause,
        });
        expect(visible).not.toContain('definitely-not-the-secret');
        expect(visible).not.toContain(
          Buffer.from(`${fake.clientId}:definitely-not-the-secret`).toString('base64'),
        );
      }
    });
  });
});

describe('PayPal webhook certificate policy without a configured API base URL', () => {
  const clock = createFakeClock('2026-06-01T12:00:00Z');
  let fake: FakePayPal;
  let provider: PaymentProvider;
  const fetched: string[] = [];

  beforeAll(async () => {
    // The fake only signs here; the provider talks to no API in these tests.
    fake = await startFakePayPal({ clock });
    provider = await createPayPalProvider({
      config: {
        clientId: 'unused',
        clientSecret: 'unused',
        webhookId: fake.webhookId,
        environment: 'production',
        apiBaseUrl: undefined,
      },
      clock,
      publicUrl: PUBLIC_URL,
      // Stands in for the network: serves the test certificate at whatever URL passes the policy.
      fetchCertificate: async (url) => {
        fetched.push(url);
        return fake.certificatePem;
      },
    });
  });

  afterAll(async () => {
    await fake?.close();
  });

  function event(): PayPalWebhookEvent {
    return {
      id: `WH-${randomUUID()}`,
      event_version: '1.0',
      create_time: clock.now().toISOString(),
      resource_type: 'checkout-order',
      resource_version: '2.0',
      event_type: 'CHECKOUT.ORDER.APPROVED',
      summary: 'An order has been approved by buyer',
      resource: {
        id: '5O190127TN364715T',
        status: 'APPROVED',
        purchase_units: [{ custom_id: randomUUID() }],
      },
      links: [],
    };
  }

  it('fetches certificates only over https from hosts under .paypal.com, once per URL', async () => {
    const trusted = 'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77';
    for (let i = 0; i < 2; i++) {
      await expect(
        provider.verifyWebhook(delivery(fake.signedDelivery(event(), { certUrl: trusted }))),
      ).resolves.toMatchObject({ action: 'authorized', paymentRef: '5O190127TN364715T' });
    }

    const untrusted = [
      'http://api.paypal.com/v1/notifications/certs/CERT-1',
      'https://paypal.com/v1/notifications/certs/CERT-1',
      'https://evilpaypal.com/v1/notifications/certs/CERT-1',
      'https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1',
      'https://api.paypal.com:8443/v1/notifications/certs/CERT-1',
      'https://user@api.paypal.com/v1/notifications/certs/CERT-1',
      fake.certUrl,
      'not a url',
    ];
    for (const certUrl of untrusted) {
      const error = await rejection(
        provider.verifyWebhook(delivery(fake.signedDelivery(event(), { certUrl }))),
      );
      expect(error.code).toBe('webhook_signature_invalid');
      expect(error.details?.reason).toBe('certificate URL not trusted');
    }
    expect(fetched).toEqual([trusted]);
  });
});

describe('CRC-32 of the webhook body', () => {
  it('matches zlib, and the portable table matches it too (unsigned, as PayPal signs it)', () => {
    // Known value: CRC-32 of "123456789" is 0xCBF43926.
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Portable(Buffer.from('123456789'))).toBe(0xcbf43926);
    for (const size of [0, 1, 7, 64, 1000, 65_537]) {
      const data = randomBytes(size);
      expect(crc32Portable(data)).toBe(zlib.crc32(data) >>> 0);
      expect(crc32(data)).toBe(zlib.crc32(data) >>> 0);
    }
  });
});
