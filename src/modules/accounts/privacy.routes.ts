import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { AppError } from '../../platform/errors/index.ts';
import { access } from '../../platform/http/access.ts';
import type { AppInstance } from '../../platform/http/http-app.ts';
import type { AccountsContext } from './accounts.context.ts';
import { AccountExport, DeleteAccountBody } from './privacy.schemas.ts';
import { deleteMyAccount, exportMyData } from './privacy.service.ts';

function userIdOf(request: FastifyRequest): string {
  const userId = request.principal?.userId;
  if (!userId) throw new AppError('unauthenticated', 'Sign in to continue');
  return userId;
}

/** The caller's own data: download everything (export) and erase the account (delete). */
export function registerPrivacyRoutes(app: AppInstance, context: AccountsContext): void {
  app.get(
    '/api/me/export',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['me'],
        summary: 'Download everything Caravan holds about me, as a JSON file',
        response: { 200: AccountExport },
      },
    },
    async (request, reply) => {
      const data = await exportMyData(context, { userId: userIdOf(request) });
      const date = context.services.clock.now().toISOString().slice(0, 10);
      void reply
        .header('content-disposition', `attachment; filename="caravan-export-${date}.json"`)
        .header('cache-control', 'no-store');
      return data;
    },
  );

  app.delete(
    '/api/me',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['me'],
        summary: 'Delete my account (anonymized at once; cannot be undone)',
        description:
          'Accounts with a password must give it (401 invalid_credentials when wrong). Personal data is ' +
          'erased, sessions end, and the email can register again. Order and payment records are kept, ' +
          'pointing at the anonymized account.',
        body: DeleteAccountBody,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await deleteMyAccount(context, {
        userId: userIdOf(request),
        requestId: String(request.id),
        ...(request.body.password !== undefined ? { password: request.body.password } : {}),
      });
      return reply.status(204).send(null);
    },
  );
}
