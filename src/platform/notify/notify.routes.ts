import Type from 'typebox';
import { AppError } from '../errors/index.ts';
import { access } from '../http/access.ts';
import type { AppInstance } from '../http/http-app.ts';
import { DateTime, NullableDateTime } from '../http/schemas.ts';
import type { PlatformServices } from '../services.ts';
import { findOutbound, listInApp, listOutbound, markInAppRead } from './notify.repo.ts';

const Notification = Type.Object({
  id: Type.String({ format: 'uuid' }),
  template: Type.String(),
  title: Type.String(),
  body: Type.String(),
  data: Type.Record(Type.String(), Type.Unknown()),
  readAt: NullableDateTime,
  createdAt: DateTime,
});

const OutboundMessage = Type.Object({
  id: Type.String({ format: 'uuid' }),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  recipient: Type.String(),
  template: Type.String(),
  locale: Type.String(),
  subject: Type.Union([Type.String(), Type.Null()]),
  bodyText: Type.String(),
  bodyHtml: Type.Union([Type.String(), Type.Null()]),
  status: Type.String(),
  transport: Type.String(),
  providerMessageId: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  createdAt: DateTime,
  sentAt: NullableDateTime,
});

const Before = Type.Optional(
  Type.String({ format: 'date-time', description: 'Cursor: createdAt of the last item seen' }),
);
const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 20 });

function requireUser(userId: string | undefined): string {
  if (!userId) throw new AppError('unauthenticated', 'Sign in to continue');
  return userId;
}

/** The in-app inbox for users, and the outbox (the local mailbox when no SMTP/Twilio) for staff. */
export function registerNotifyRoutes(app: AppInstance, services: PlatformServices): void {
  app.get(
    '/api/me/notifications',
    {
      config: { access: access.authenticated() },
      schema: {
        tags: ['notifications'],
        summary: 'My in-app notifications, newest first',
        querystring: Type.Object({ unread: Type.Boolean({ default: false }), before: Before, limit: Limit }),
        response: { 200: Type.Object({ items: Type.Array(Notification), unread: Type.Integer() }) },
      },
    },
    async (request) => {
      const userId = requireUser(request.principal?.userId);
      const { unread, before, limit } = request.query;
      return listInApp(services.db, userId, {
        unreadOnly: unread,
        limit,
        ...(before ? { before: new Date(before) } : {}),
      });
    },
  );

  app.post(
    '/api/me/notifications/:id/read',
    {
      config: { access: access.owner('the notification’s recipient') },
      schema: {
        tags: ['notifications'],
        summary: 'Mark one of my notifications read',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const userId = requireUser(request.principal?.userId);
      const found = await markInAppRead(services.db, userId, request.params.id, services.clock.now());
      if (!found) throw new AppError('not_found', 'No such notification');
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/admin/outbox',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['notifications'],
        summary: 'Emails and SMS sent or stored (the local mailbox when no vendor is configured)',
        querystring: Type.Object({
          channel: Type.Optional(Type.Union([Type.Literal('email'), Type.Literal('sms')])),
          recipient: Type.Optional(Type.String()),
          before: Before,
          limit: Limit,
        }),
        response: { 200: Type.Object({ items: Type.Array(OutboundMessage) }) },
      },
    },
    async (request) => {
      const { channel, recipient, before, limit } = request.query;
      const items = await listOutbound(services.db, {
        limit,
        ...(channel ? { channel } : {}),
        ...(recipient ? { recipient } : {}),
        ...(before ? { before: new Date(before) } : {}),
      });
      return { items };
    },
  );

  app.get(
    '/api/admin/outbox/:id',
    {
      config: { access: access.staff() },
      schema: {
        tags: ['notifications'],
        summary: 'One sent or stored message, with its bodies',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: OutboundMessage },
      },
    },
    async (request) => {
      const message = await findOutbound(services.db, request.params.id);
      if (!message) throw new AppError('not_found', 'No such message');
      return message;
    },
  );
}
