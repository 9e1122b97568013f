import Type from 'typebox';
import { access } from '../http/access.ts';
import type { AppInstance } from '../http/http-app.ts';
import { DateTime } from '../http/schemas.ts';
import type { PlatformServices } from '../services.ts';
import { listAudit } from './audit.ts';

const AuditEntryView = Type.Object({
  id: Type.Integer(),
  actorId: Type.Union([Type.String(), Type.Null()], { description: 'Null for the system or the CLI' }),
  action: Type.String({ examples: ['user.deactivate'] }),
  targetType: Type.String({ examples: ['user'] }),
  targetId: Type.String(),
  before: Type.Unknown({ description: 'The changed fields before (secrets redacted)' }),
  after: Type.Unknown({ description: 'The changed fields after (secrets redacted)' }),
  requestId: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
});

/** The audit log for staff: who did what to which record, newest first. */
export function registerAuditRoutes(app: AppInstance, services: PlatformServices): void {
  app.get(
    '/api/admin/audit',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['admin'],
        summary: 'Audit log entries, newest first',
        querystring: Type.Object({
          targetType: Type.Optional(Type.String({ maxLength: 100 })),
          targetId: Type.Optional(Type.String({ maxLength: 200 })),
          actorId: Type.Optional(Type.String({ maxLength: 200 })),
          before: Type.Optional(
            Type.Integer({ minimum: 1, description: 'Cursor: the id of the last entry seen (nextBefore)' }),
          ),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        }),
        response: {
          200: Type.Object(
            {
              items: Type.Array(AuditEntryView),
              nextBefore: Type.Union([Type.Integer(), Type.Null()], {
                description: 'Pass as `before` for the next page; null on the last page',
              }),
            },
            {
              examples: [
                {
                  items: [
                    {
                      id: 1042,
                      actorId: 'a3e1c7d2-5b94-4f08-8c6e-2d7f9b1e4a35',
                      action: 'user.deactivate',
                      targetType: 'user',
                      targetId: '7c1e2f4a-9b3d-4e6f-8a2c-5d7b9e1f3a64',
                      before: { status: 'active' },
                      after: {
                        status: 'deactivated',
                        reason: 'Counterfeit listings reported by three buyers (tickets 4821, 4833, 4840)',
                        revokedSessions: 2,
                      },
                      requestId: 'f2a4c6e8-1b3d-4f5a-8c7e-9d0b2a4c6e81',
                      createdAt: '2026-11-23T04:12:00.000Z',
                    },
                    {
                      id: 1017,
                      actorId: null,
                      action: 'user.create_admin',
                      targetType: 'user',
                      targetId: 'a3e1c7d2-5b94-4f08-8c6e-2d7f9b1e4a35',
                      before: null,
                      after: { roles: ['staff', 'admin'], status: 'active', emailVerified: true },
                      requestId: null,
                      createdAt: '2026-11-19T09:00:00.000Z',
                    },
                  ],
                  nextBefore: null,
                },
              ],
            },
          ),
        },
      },
    },
    async (request) => {
      const { targetType, targetId, actorId, before, limit } = request.query;
      const items = await listAudit(services.db, {
        limit,
        ...(targetType ? { targetType } : {}),
        ...(targetId ? { targetId } : {}),
        ...(actorId ? { actorId } : {}),
        ...(before !== undefined ? { before } : {}),
      });
      const last = items.at(-1);
      return { items, nextBefore: items.length === limit && last ? last.id : null };
    },
  );
}
