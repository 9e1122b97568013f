import { defineTemplate } from '../../platform/notify/templates.ts';

/*
 * Every order email gets `name` (the buyer's display name), `number` (the order number) and
 * `total` (formatted like "49.99 USD"); the rest is listed per template.
 */

export const orderPlacedTemplate = defineTemplate({
  name: 'orders.placed',
  locales: {
    en: {
      subject: 'Order #{{number}} received',
      text: 'Hello {{name}},\n\nThank you for your order #{{number}} ({{total}}).\nPlease complete the payment by {{dueAt}} (UTC); unpaid orders are cancelled after that.',
      html: '<p>Hello {{name}},</p><p>Thank you for your order <strong>#{{number}}</strong> ({{total}}).</p><p>Please complete the payment by {{dueAt}} (UTC); unpaid orders are cancelled after that.</p>',
      title: 'Order #{{number}} received',
      body: 'Total {{total}}. Please pay by {{dueAt}} (UTC).',
    },
    ko: {
      subject: '주문 #{{number}} 접수 완료',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}({{total}})이 접수되었습니다.\n{{dueAt}}(UTC)까지 결제를 완료해 주세요. 기한이 지나면 주문이 취소됩니다.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>({{total}})이 접수되었습니다.</p><p>{{dueAt}}(UTC)까지 결제를 완료해 주세요. 기한이 지나면 주문이 취소됩니다.</p>',
      title: '주문 #{{number}} 접수',
      body: '합계 {{total}}. {{dueAt}}(UTC)까지 결제해 주세요.',
    },
  },
});

export const paymentReceivedTemplate = defineTemplate({
  name: 'orders.payment-received',
  locales: {
    en: {
      subject: 'Payment received for order #{{number}}',
      text: 'Hello {{name}},\n\nWe received your payment of {{paid}} for order #{{number}}. We will let you know when it ships.',
      html: '<p>Hello {{name}},</p><p>We received your payment of {{paid}} for order <strong>#{{number}}</strong>. We will let you know when it ships.</p>',
      title: 'Payment received',
      body: 'Order #{{number}}: {{paid}} paid.',
    },
    ko: {
      subject: '주문 #{{number}} 결제 완료',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}의 결제 {{paid}}이(가) 완료되었습니다. 발송되면 알려 드리겠습니다.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>의 결제 {{paid}}이(가) 완료되었습니다. 발송되면 알려 드리겠습니다.</p>',
      title: '결제 완료',
      body: '주문 #{{number}}: {{paid}} 결제됨.',
    },
  },
});

/** Cancelled by the buyer or staff before payment. */
export const orderCancelledTemplate = defineTemplate({
  name: 'orders.cancelled',
  locales: {
    en: {
      subject: 'Order #{{number}} cancelled',
      text: 'Hello {{name}},\n\nYour order #{{number}} ({{total}}) was cancelled. Nothing was charged.',
      html: '<p>Hello {{name}},</p><p>Your order <strong>#{{number}}</strong> ({{total}}) was cancelled. Nothing was charged.</p>',
      title: 'Order #{{number}} cancelled',
      body: 'Nothing was charged.',
    },
    ko: {
      subject: '주문 #{{number}} 취소됨',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}({{total}})이 취소되었습니다. 결제된 금액은 없습니다.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>({{total}})이 취소되었습니다. 결제된 금액은 없습니다.</p>',
      title: '주문 #{{number}} 취소',
      body: '결제된 금액은 없습니다.',
    },
  },
});

/** The payment-timeout job's cancellation. */
export const paymentExpiredTemplate = defineTemplate({
  name: 'orders.payment-expired',
  locales: {
    en: {
      subject: 'Order #{{number}} cancelled: payment not received',
      text: 'Hello {{name}},\n\nWe did not receive the payment for order #{{number}} ({{total}}) in time, so it was cancelled and the items were released. You are welcome to order again.',
      html: '<p>Hello {{name}},</p><p>We did not receive the payment for order <strong>#{{number}}</strong> ({{total}}) in time, so it was cancelled and the items were released. You are welcome to order again.</p>',
      title: 'Order #{{number}} cancelled',
      body: 'The payment was not received in time.',
    },
    ko: {
      subject: '주문 #{{number}} 취소: 결제 기한 초과',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}({{total}})의 결제가 기한 내에 완료되지 않아 주문이 취소되었습니다. 언제든 다시 주문해 주세요.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>({{total}})의 결제가 기한 내에 완료되지 않아 주문이 취소되었습니다. 언제든 다시 주문해 주세요.</p>',
      title: '주문 #{{number}} 취소',
      body: '결제 기한이 지났습니다.',
    },
  },
});

/** Paid, but the stock was gone (holds had expired): cancelled, and the money goes back. */
export const outOfStockAfterPaymentTemplate = defineTemplate({
  name: 'orders.out-of-stock',
  locales: {
    en: {
      subject: 'Order #{{number}} cancelled: items no longer available',
      text: 'Hello {{name}},\n\nYour payment for order #{{number}} arrived after the reserved items had sold out, so we cancelled the order. The full amount of {{refund}} is being refunded to your payment method.',
      html: '<p>Hello {{name}},</p><p>Your payment for order <strong>#{{number}}</strong> arrived after the reserved items had sold out, so we cancelled the order. The full amount of {{refund}} is being refunded to your payment method.</p>',
      title: 'Order #{{number}} cancelled',
      body: 'Items sold out; {{refund}} is being refunded.',
    },
    ko: {
      subject: '주문 #{{number}} 취소: 재고 소진',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}의 결제가 예약된 상품의 재고 소진 이후에 도착하여 주문을 취소했습니다. 결제하신 {{refund}} 전액이 환불 처리됩니다.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>의 결제가 예약된 상품의 재고 소진 이후에 도착하여 주문을 취소했습니다. 결제하신 {{refund}} 전액이 환불 처리됩니다.</p>',
      title: '주문 #{{number}} 취소',
      body: '재고 소진으로 {{refund}} 환불 예정.',
    },
  },
});

/** Extra data: `carrier`, `trackingNumber`. */
export const orderShippedTemplate = defineTemplate({
  name: 'orders.shipped',
  locales: {
    en: {
      subject: 'Order #{{number}} has shipped',
      text: 'Hello {{name}},\n\nYour order #{{number}} is on its way with {{carrier}}. Tracking number: {{trackingNumber}}.',
      html: '<p>Hello {{name}},</p><p>Your order <strong>#{{number}}</strong> is on its way with {{carrier}}.</p><p>Tracking number: {{trackingNumber}}</p>',
      title: 'Order #{{number}} shipped',
      body: '{{carrier}} {{trackingNumber}}',
    },
    ko: {
      subject: '주문 #{{number}} 발송 완료',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}이(가) {{carrier}}(으)로 발송되었습니다. 운송장 번호: {{trackingNumber}}',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>이(가) {{carrier}}(으)로 발송되었습니다.</p><p>운송장 번호: {{trackingNumber}}</p>',
      title: '주문 #{{number}} 발송',
      body: '{{carrier}} {{trackingNumber}}',
    },
  },
});

export const orderDeliveredTemplate = defineTemplate({
  name: 'orders.delivered',
  locales: {
    en: {
      subject: 'Order #{{number}} was delivered',
      text: 'Hello {{name}},\n\nYour order #{{number}} was delivered. Enjoy it, and tell other buyers what you think with a review.',
      html: '<p>Hello {{name}},</p><p>Your order <strong>#{{number}}</strong> was delivered. Enjoy it, and tell other buyers what you think with a review.</p>',
      title: 'Order #{{number}} delivered',
      body: 'You can now review what you bought.',
    },
    ko: {
      subject: '주문 #{{number}} 배송 완료',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}의 배송이 완료되었습니다. 리뷰로 다른 구매자에게 후기를 들려 주세요.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 <strong>#{{number}}</strong>의 배송이 완료되었습니다. 리뷰로 다른 구매자에게 후기를 들려 주세요.</p>',
      title: '주문 #{{number}} 배송 완료',
      body: '구매하신 상품의 리뷰를 남길 수 있습니다.',
    },
  },
});

/** Extra data: `refund` (this refund), `refunded` (all refunds so far). */
export const refundIssuedTemplate = defineTemplate({
  name: 'orders.refund-issued',
  locales: {
    en: {
      subject: 'Refund for order #{{number}}',
      text: 'Hello {{name}},\n\nWe refunded {{refund}} for order #{{number}} (refunded so far: {{refunded}}). Depending on your bank it may take a few days to appear.',
      html: '<p>Hello {{name}},</p><p>We refunded <strong>{{refund}}</strong> for order #{{number}} (refunded so far: {{refunded}}).</p><p>Depending on your bank it may take a few days to appear.</p>',
      title: 'Refund for order #{{number}}',
      body: '{{refund}} refunded.',
    },
    ko: {
      subject: '주문 #{{number}} 환불 안내',
      text: '{{name}}님, 안녕하세요.\n\n주문 #{{number}}에 대해 {{refund}}을(를) 환불했습니다(누적 환불액: {{refunded}}). 카드사에 따라 반영까지 며칠 걸릴 수 있습니다.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문 #{{number}}에 대해 <strong>{{refund}}</strong>을(를) 환불했습니다(누적 환불액: {{refunded}}).</p><p>카드사에 따라 반영까지 며칠 걸릴 수 있습니다.</p>',
      title: '주문 #{{number}} 환불',
      body: '{{refund}} 환불됨.',
    },
  },
});
