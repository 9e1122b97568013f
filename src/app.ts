import { accountsModule } from './modules/accounts/index.ts';
import { cartModule } from './modules/cart/index.ts';
import { catalogModule } from './modules/catalog/index.ts';
import { checkoutModule } from './modules/checkout/index.ts';
import { currencyModule } from './modules/currency/index.ts';
import { inventoryModule } from './modules/inventory/index.ts';
import { ordersModule } from './modules/orders/index.ts';
import { paymentsModule } from './modules/payments/index.ts';
import { registerAuditRoutes } from './platform/audit/audit.routes.ts';
import type { Config } from './platform/config/config.ts';
import { type AppInstance, buildHttpApp } from './platform/http/http-app.ts';
import type { CaravanModule } from './platform/module.ts';
import { notifyModule } from './platform/notify/index.ts';
import { createPlatform, type Platform, type PlatformOptions } from './platform/platform.ts';
import { registerRealtimeRoutes } from './platform/realtime/index.ts';
import { registerStorageRoutes } from './platform/storage/index.ts';

/** The feature modules, in registration order. A module is added here and nowhere else. */
export const modules: readonly CaravanModule[] = [
  notifyModule,
  accountsModule,
  catalogModule,
  inventoryModule,
  cartModule,
  ordersModule,
  paymentsModule,
  checkoutModule,
  currencyModule,
];

/**
 * `all` serves HTTP and runs jobs and schedules (the default); `api` only serves HTTP (jobs are
 * enqueued, never run); `worker` runs jobs and schedules and serves only the ops routes.
 */
export type Role = 'all' | 'api' | 'worker';

export interface BuildAppOptions extends PlatformOptions {
  readonly role?: Role;
  readonly modules?: readonly CaravanModule[];
  /** Extra routes (tests, embedding applications); registered after the modules. */
  readonly extraRoutes?: (app: AppInstance, platform: Platform) => void | Promise<void>;
}

export interface CaravanApp {
  readonly role: Role;
  readonly platform: Platform;
  readonly http: AppInstance;
  readonly modules: readonly CaravanModule[];
  /** Starts the job runtime for this role (HTTP is started by the caller with `http.listen`). */
  startJobs(): Promise<void>;
  /** Graceful stop: refuse new requests, finish those in flight, close sockets with 1001, drain jobs. */
  close(): Promise<void>;
}

export async function buildApp(config: Config, options: BuildAppOptions = {}): Promise<CaravanApp> {
  const role = options.role ?? 'all';
  const appModules = options.modules ?? modules;
  const platform = await createPlatform(config, options);
  try {
    platform.jobs.register(
      appModules.flatMap((module) => module.jobs ?? []),
      appModules.flatMap((module) => module.crons ?? []),
    );
    for (const module of appModules) await module.setup?.(platform);
    const http = await buildHttpApp({
      services: platform,
      registerRoutes: async (app) => {
        if (role === 'worker') return;
        registerRealtimeRoutes(app, platform.hub);
        registerStorageRoutes(app, platform.storage);
        registerAuditRoutes(app, platform);
        for (const module of appModules) await module.routes?.(app, platform);
        await options.extraRoutes?.(app, platform);
      },
    });
    await http.ready();
    let closing: Promise<void> | undefined;
    return {
      role,
      platform,
      http,
      modules: appModules,
      startJobs: () =>
        platform.jobs.start({ work: role !== 'api', schedule: role !== 'api', services: platform }),
      close() {
        closing ??= (async () => {
          // Sockets first (1001 "going away") so clients reconnect elsewhere while HTTP drains.
          await Promise.all([platform.hub.closeAll(1001, 'server shutting down'), http.close()]);
          await platform.close();
        })();
        return closing;
      },
    };
  } catch (error) {
    await platform.close();
    throw error;
  }
}

export async function runSeeds(app: CaravanApp): Promise<void> {
  for (const module of app.modules) await module.seed?.(app.platform);
}
