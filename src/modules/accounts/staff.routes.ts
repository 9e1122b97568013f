import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import {
  AdminUserDetail,
  AdminUserView,
  DeactivateBody,
  SetRolesBody,
  toAdminUserDetail,
  toAdminUserView,
  UserIdParams,
  UserList,
  UserSearchQuery,
} from './staff.schemas.ts';
import {
  deactivateUser,
  getUserForStaff,
  reactivateUser,
  searchUsersForStaff,
  setUserRoles,
} from './staff.service.ts';

function actorOf(request: FastifyRequest): { userId: string } {
  const userId = request.principal?.userId;
  if (!userId) throw new AppError('unauthenticated', 'Sign in to continue');
  return { userId };
}

/** Staff tools over accounts: search, inspect, deactivate/reactivate, roles. Each change is audited. */
export function registerStaffRoutes(app: AppInstance, context: AccountsContext): void {
  app.get(
    '/api/admin/users',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['admin'],
        summary: 'Search users by email or display name, ordered by email',
        querystring: UserSearchQuery,
        response: { 200: UserList },
      },
    },
    async (request) => {
      const { q, role, status, after, limit } = request.query;
      const page = await searchUsersForStaff(context, {
        limit,
        ...(q ? { query: q } : {}),
        ...(role ? { role } : {}),
        ...(status ? { status } : {}),
        ...(after ? { after } : {}),
      });
      return { items: page.items.map(toAdminUserView), nextAfter: page.nextAfter };
    },
  );

  app.get(
    '/api/admin/users/:id',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['admin'],
        summary: 'One user with their seller profile and open session count',
        params: UserIdParams,
        response: { 200: AdminUserDetail },
      },
    },
    async (request) => {
      const found = await getUserForStaff(context, { userId: request.params.id });
      return toAdminUserDetail(found.user, found.sellerProfile, found.openSessions);
    },
  );

  app.post(
    '/api/admin/users/:id/deactivate',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['admin'],
        summary: 'Deactivate an account and end all its sessions at once',
        description:
          'Only an admin may deactivate an admin; nobody may deactivate themselves (409 cannot_target_self). ' +
          'Deactivating an already deactivated account changes nothing.',
        params: UserIdParams,
        body: DeactivateBody,
        response: { 200: AdminUserView },
      },
    },
    async (request) => {
      const user = await deactivateUser(context, {
        actor: actorOf(request),
        userId: request.params.id,
        reason: request.body.reason,
        requestId: String(request.id),
      });
      return toAdminUserView(user);
    },
  );

  app.post(
    '/api/admin/users/:id/reactivate',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['admin'],
        summary: 'Let a deactivated account sign in again (its old sessions stay ended)',
        params: UserIdParams,
        response: { 200: AdminUserView },
      },
    },
    async (request) => {
      const user = await reactivateUser(context, {
        actor: actorOf(request),
        userId: request.params.id,
        requestId: String(request.id),
      });
      return toAdminUserView(user);
    },
  );

  app.put(
    '/api/admin/users/:id/roles',
    {
      config: { access: access.roles('admin') },
      schema: {
        tags: ['admin'],
        summary: "Replace a user's roles",
        description:
          'Removing the admin role from the last active admin is refused (409 last_admin); so is removing ' +
          'your own admin role (409 cannot_target_self): another admin must do it.',
        params: UserIdParams,
        body: SetRolesBody,
        response: { 200: AdminUserView },
      },
    },
    async (request) => {
      const user = await setUserRoles(context, {
        actor: actorOf(request),
        userId: request.params.id,
        roles: request.body.roles,
        requestId: String(request.id),
      });
      return toAdminUserView(user);
    },
  );
}
