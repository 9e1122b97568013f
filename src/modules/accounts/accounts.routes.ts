import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import { registerAddressRoutes } from './addresses.routes.ts';
import { registerAuthRoutes } from './auth.routes.ts';
import { registerAvatarRoutes } from './avatar.routes.ts';
import { registerGeoRoutes } from './geo.routes.ts';
import { registerGoogleRoutes } from './google.routes.ts';
import { registerMeRoutes } from './me.routes.ts';
import { registerPrivacyRoutes } from './privacy.routes.ts';
import { registerStaffRoutes } from './staff.routes.ts';

/** Every accounts route, one file per area. */
export function registerAccountsRoutes(app: AppInstance, context: AccountsContext): void {
  registerStaffRoutes(app, context);
  registerPrivacyRoutes(app, context);
  registerAvatarRoutes(app, context);
  registerGeoRoutes(app, context);
  registerAddressRoutes(app, context);
  registerAuthRoutes(app, context);
  registerMeRoutes(app, context);
  registerGoogleRoutes(app, context);
}
