import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { PlatformServices } from '../../platform/services.ts';
import type { OrderAddress } from '../orders/index.ts';

registerErrorCodes({
  /** No shipping rate for this currency or destination. */
  shipping_unavailable: 422,
});

export interface ShippingQuoteRequest {
  readonly currency: string;
  readonly lines: readonly { readonly variantId: string; readonly quantity: number }[];
  readonly address: OrderAddress | null;
}

export interface ShippingQuote {
  readonly amountMinor: number;
  /** What the buyer sees: "Flat rate", a carrier service name later. */
  readonly service: string;
}

/**
 * How checkout prices delivery. The shipping module (carrier rates via Shippo, FedEx, EMS) installs
 * its own implementation with `setShippingRates`; until then every order pays the flat rate of its
 * currency (SHIPPING_FLAT_RATES).
 */
export interface ShippingRates {
  quote(request: ShippingQuoteRequest): Promise<ShippingQuote>;
}

export function flatRateShipping(rates: Readonly<Record<string, number>>): ShippingRates {
  return {
    async quote({ currency }) {
      const amountMinor = rates[currency];
      if (amountMinor === undefined) {
        throw new AppError('shipping_unavailable', `No shipping rate for ${currency}`, {
          details: { currency, configured: Object.keys(rates) },
        });
      }
      return { amountMinor, service: 'Flat rate' };
    },
  };
}

const registry = new WeakMap<PlatformServices, ShippingRates>();

export function setShippingRates(services: PlatformServices, rates: ShippingRates): void {
  registry.set(services, rates);
}

export function shippingRatesFor(services: PlatformServices): ShippingRates {
  return registry.get(services) ?? flatRateShipping(services.config.commerce.shippingFlatRates);
}
