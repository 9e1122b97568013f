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
          200: Type.Object({
            items: Type.Array(AuditEntryView),
            nextBefore: Type.Union([Type.Integer(), Type.Null()], {
              description: 'Pass as `before` for the next page; null on the last page',
            }),
          }),
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
