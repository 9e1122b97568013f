import type { CaravanModule } from '../../platform/module.ts';
import { accountsContext, createAccountsContext } from './accounts.context.ts';
import { registerAccountsRoutes } from './accounts.routes.ts';

export { accountsContext } from './accounts.context.ts';
export { ROLES, type Role } from './accounts.tables.ts';

export const accountsModule: CaravanModule = {
  name: 'accounts',
  async setup(services) {
    const context = await createAccountsContext(services);
    services.auth.verifier = context.verifier;
  },
  routes: (app, services) => registerAccountsRoutes(app, accountsContext(services)),
};
