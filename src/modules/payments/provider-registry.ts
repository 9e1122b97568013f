import { AppError, registerErrorCodes } from '../../platform/errors/index.ts';
import type { PlatformServices } from '../../platform/services.ts';
import type { PaymentProviderName } from './payments.tables.ts';
// Registers webhook_signature_invalid and payment_provider_error.
import './providers/payment-provider.port.ts';
import { createLocalPaymentProvider, type LocalPaymentProvider } from './providers/local.provider.ts';
import type { PaymentProvider } from './providers/payment-provider.port.ts';

registerErrorCodes({
  /** The provider asked for is not configured on this server. */
  payment_provider_unavailable: 400,
});

export interface PaymentProviders {
  /** PAYMENT_PROVIDER: what checkout uses unless the buyer picks another configured one. */
  readonly defaultName: PaymentProviderName;
  readonly names: readonly PaymentProviderName[];
  readonly local: LocalPaymentProvider;
  get(name: PaymentProviderName): PaymentProvider;
  has(name: string): name is PaymentProviderName;
}

const registries = new WeakMap<PlatformServices, Promise<PaymentProviders>>();

/**
 * One set of provider adapters per app: `local` always (the hosted test page works on every
 * server), Stripe and PayPal when their keys are configured. Vendor SDKs load only then.
 */
export function paymentProvidersFor(services: PlatformServices): Promise<PaymentProviders> {
  let registry = registries.get(services);
  if (!registry) {
    registry = buildRegistry(services);
    registries.set(services, registry);
  }
  return registry;
}

async function buildRegistry(services: PlatformServices): Promise<PaymentProviders> {
  const { config, clock } = services;
  const publicUrl = config.server.publicUrl;
  const local = createLocalPaymentProvider({ secret: services.secret, publicUrl, clock });
  const providers = new Map<PaymentProviderName, PaymentProvider>([['local', local]]);
  if (config.payments.stripe) {
    const { createStripeProvider } = await import('./providers/stripe.provider.ts');
    providers.set('stripe', await createStripeProvider({ config: config.payments.stripe, clock, publicUrl }));
  }
  if (config.payments.paypal) {
    const { createPayPalProvider } = await import('./providers/paypal.provider.ts');
    providers.set('paypal', await createPayPalProvider({ config: config.payments.paypal, clock, publicUrl }));
  }
  const has = (name: string): name is PaymentProviderName => providers.has(name as PaymentProviderName);
  return {
    defaultName: config.payments.provider,
    names: [...providers.keys()],
    local,
    has,
    get(name) {
      const provider = providers.get(name);
      if (!provider) {
        throw new AppError('payment_provider_unavailable', `Payment provider ${name} is not configured`, {
          details: { available: [...providers.keys()] },
        });
      }
      return provider;
    },
  };
}
