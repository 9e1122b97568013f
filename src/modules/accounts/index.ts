import type { CaravanModule } from '../../platform/module.ts';
import { accountsContext, createAccountsContext } from './accounts.context.ts';
import { registerAccountsRoutes } from './accounts.routes.ts';
import { seedAccounts } from './accounts.seed.ts';
import { generateAvatarJob } from './avatar.jobs.ts';
import { createAdminCommand } from './create-admin.command.ts';

export { accountsContext } from './accounts.context.ts';
export { ROLES, type Role } from './accounts.tables.ts';

export const accountsModule: CaravanModule = {
  name: 'accounts',
  jobs: [generateAvatarJob],
  async setup(services) {
    const context = await createAccountsContext(services);
    services.auth.verifier = context.verifier;
  },
  routes: (app, services) => registerAccountsRoutes(app, accountsContext(services)),
  seed: seedAccounts,
  commands: { 'create-admin': createAdminCommand },
};
