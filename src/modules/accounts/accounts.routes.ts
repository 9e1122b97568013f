import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';

/** Every accounts route, one file per area. */
export function registerAccountsRoutes(_app: AppInstance, _context: AccountsContext): void {}
