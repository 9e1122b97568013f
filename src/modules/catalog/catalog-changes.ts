import type { ListenHandlers, Subscription } from '../../platform/db/client.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { CATALOG_CHANGED_CHANNEL } from './read-cache.ts';

/** Every cache of catalog reads in this process follows one subscription to the change channel. */
export interface CatalogChanges {
  follow(handlers: ListenHandlers): void;
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
  return { follow: (handlers) => followers.push(handlers) };
}
