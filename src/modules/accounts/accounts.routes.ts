import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';

/** Every accounts route, one file per area. */
export function registerAccountsRoutes(app: AppInstance, context: AccountsContext): void {
  // area registrations (one line each)
  void app;
  void context;
}
