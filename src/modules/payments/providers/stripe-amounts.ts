import { minorUnitExponent } from '../../../platform/money/money.ts';

// Stripe's own decimals per currency (https://docs.stripe.com/currencies#zero-decimal). They match
// ISO 4217, which is what our minor units follow, except where Stripe keeps an older convention:
// ISK is zero-decimal in ISO but two-decimal in Stripe's API ("100" = 1 króna, multiples of 100
// only), and MGA is the reverse.
const STRIPE_ZERO_DECIMAL = new Set([
  'BIF',
  'CLP',
  'DJF',
  'GNF',
  'JPY',
  'KMF',
  'KRW',
  'MGA',
  'PYG',
  'RWF',
  'UGX',
  'VND',
  'VUV',
  'XAF',
  'XOF',
  'XPF',
]);
const STRIPE_THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND']);

function stripeExponent(currency: string): number {
  const code = currency.toUpperCase();
  if (STRIPE_ZERO_DECIMAL.has(code)) return 0;
  if (STRIPE_THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** Our minor units → the integer Stripe expects (identical for USD, KRW, JPY…; ×100 for ISK). */
export function toStripeAmount(amountMinor: number, currency: string): number {
  const shift = stripeExponent(currency) - minorUnitExponent(currency);
  if (shift >= 0) return amountMinor * 10 ** shift;
  const divisor = 10 ** -shift;
  if (amountMinor % divisor !== 0) {
    throw new RangeError(`${amountMinor} ${currency} minor units cannot be expressed in Stripe's units`);
  }
  return amountMinor / divisor;
}

/** A Stripe amount → our minor units. */
export function fromStripeAmount(amount: number, currency: string): number {
  const shift = stripeExponent(currency) - minorUnitExponent(currency);
  // Stripe refuses fractional ISK since 2023, so an inexact division only comes from old charges.
  return shift >= 0 ? Math.round(amount / 10 ** shift) : amount * 10 ** -shift;
}
