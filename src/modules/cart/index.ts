import type { CaravanModule } from '../../platform/module.ts';
import { purgeAbandonedCartsCron, purgeAbandonedCartsJob } from './cart.jobs.ts';
import { registerCartRoutes } from './cart.routes.ts';

export {
  type CheckoutCart,
  type CheckoutCartLine,
  cartFingerprint,
  lockCartForCheckout,
  markCartCheckedOut,
} from './cart-checkout.ts';

export const cartModule: CaravanModule = {
  name: 'cart',
  jobs: [purgeAbandonedCartsJob],
  crons: [purgeAbandonedCartsCron],
  routes: registerCartRoutes,
};
