import type { CaravanModule } from '../../platform/module.ts';
import { registerCheckoutRoutes } from './checkout.routes.ts';

export { createCheckoutService } from './checkout.service.ts';
export {
  flatRateShipping,
  type ShippingQuote,
  type ShippingQuoteRequest,
  type ShippingRates,
  setShippingRates,
  shippingRatesFor,
} from './shipping-rates.ts';

export const checkoutModule: CaravanModule = {
  name: 'checkout',
  routes: registerCheckoutRoutes,
};
