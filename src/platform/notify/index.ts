import type { CaravanModule } from '../module.ts';
import { notifyJobs } from './notify.jobs.ts';
import { registerNotifyRoutes } from './notify.routes.ts';

export type { Notifier, NotifyRequest } from './notify.service.ts';
export { defineTemplate, renderTemplate } from './templates.ts';

export const notifyModule: CaravanModule = {
  name: 'notify',
  jobs: notifyJobs,
  routes: registerNotifyRoutes,
};
