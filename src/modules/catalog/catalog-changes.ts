import type { ListenHandlers, Subscription } from '../../platform/db/client.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import {
  CATALOG_CHANGED_CHANNEL,
  createReadCache,
  type ReadCache,
  type ReadCacheSettings,
} from './read-cache.ts';

/** Every cache of catalog reads in this process follows one subscription to the change channel. */
export interface CatalogChanges {
  follow(handlers: ListenHandlers): void;
  /**
   * A read cache named `name` (its metrics' `cache` label) following these changes, with the
   * CATALOG_CACHE_* bounds unless `bounds` says otherwise; undefined when the caches are off.
   */
  readCache(name: string, bounds?: Partial<ReadCacheSettings>): ReadCache | undefined;
}

/**
 * One LISTEN on CATALOG_CHANGED_CHANNEL per app (on PostgreSQL one dedicated connection, however
 * many caches follow it), from the moment the app is ready until it closes; not opened at all when
 * nothing follows it. Only processes that serve HTTP register routes, so workers never open it.
 */
export function catalogChanges(app: AppInstance, services: PlatformServices): CatalogChanges {
  const followers: ListenHandlers[] = [];
  let subscription: Subscription | undefined;
  app.addHook('onReady', async () => {
    if (followers.length === 0) return;
    subscription = await services.database.listen(CATALOG_CHANGED_CHANNEL, {
      onNotify: (payload) => {
        for (const follower of followers) follower.onNotify(payload);
      },
      onReset: (listening) => {
        for (const follower of followers) follower.onReset(listening);
      },
      onError: (error) => {
        services.logger.warn({ err: error }, 'catalog change listener lost; catalog caches bypassed');
      },
    });
  });
  app.addHook('onClose', async () => {
    await subscription?.close();
  });
  const follow = (handlers: ListenHandlers) => {
    followers.push(handlers);
  };
  return {
    follow,
    readCache(name, bounds = {}) {
      const settings = services.config.catalog.readCache;
      if (!settings.enabled) return undefined;
      const cache = createReadCache({
        name,
        settings: {
          maxAgeMs: settings.maxAgeSeconds * 1000,
          maxEntries: settings.maxEntries,
          maxBytes: settings.maxBytes,
          ...bounds,
        },
        metrics: services.metrics,
      });
      follow(cache.handlers);
      return cache;
    },
  };
}
