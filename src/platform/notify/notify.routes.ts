import Type from 'typebox';
import { AppError } from '../errors/index.ts';
import { access } from '../http/access.ts';
import type { AppInstance } from '../http/http-app.ts';
import { DateTime, NullableDateTime } from '../http/schemas.ts';
import type { PlatformServices } from '../services.ts';
import { findOutbound, listInApp, listOutbound, markInAppRead } from './notify.repo.ts';

const NOTIFICATION_EXAMPLE = {
  id: '5a9e3c7b-2d4f-4e1a-8b6c-0f3d5e7a9c21',
  template: 'accounts.password-changed',
  title: '비밀번호 변경됨',
  body: '다른 기기의 로그인이 해제되었습니다.',
  data: { name: 'Minji' },
  readAt: null,
  createdAt: '2026-11-22T13:40:00.000Z',
};

const Notification = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    template: Type.String(),
    title: Type.String(),
    body: Type.String(),
    data: Type.Record(Type.String(), Type.Unknown()),
    readAt: NullableDateTime,
    createdAt: DateTime,
  },
  { examples: [NOTIFICATION_EXAMPLE] },
);

const OUTBOUND_EXAMPLE = {
  id: '3c8f1a6d-7e2b-4f9c-a5d1-8b4e2c6f0a93',
  channel: 'email',
  recipient: 'ayesha.khan@example.com',
  template: 'accounts.verify-email',
  locale: 'en',
  subject: 'Confirm your email address',
  bodyText:
    'Hello Ayesha Khan,\n\nConfirm your email address to start ordering, bidding and selling:\n' +
    'https://caravan.example.com/verify-email?token=Jq3vX9kR2mT7wLpZ4sN8bY1cF6hD0gAeU5iO2rKxVtQ\n\n' +
    'The link expires in 48 hours. If you did not create an account, ignore this email.',
  bodyHtml:
    '<p>Hello Ayesha Khan,</p><p>Confirm your email address to start ordering, bidding and selling:</p>' +
    '<p><a href="https://caravan.example.com/verify-email?token=Jq3vX9kR2mT7wLpZ4sN8bY1cF6hD0gAeU5iO2rKxVtQ">' +
    'Confirm my email</a></p><p>The link expires in 48 hours. If you did not create an account, ignore this email.</p>',
  status: 'stored',
  transport: 'local',
  providerMessageId: null,
  error: null,
  createdAt: '2026-11-20T08:15:01.000Z',
  sentAt: '2026-11-20T08:15:02.000Z',
};

const OutboundMessage = Type.Object(
  {
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
  },
  { examples: [OUTBOUND_EXAMPLE] },
);

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
        response: {
          200: Type.Object(
            { items: Type.Array(Notification), unread: Type.Integer() },
            { examples: [{ items: [NOTIFICATION_EXAMPLE], unread: 1 }] },
          ),
        },
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
        response: {
          200: Type.Object(
            { items: Type.Array(OutboundMessage) },
            {
              examples: [
                {
                  items: [
                    {
                      id: '6b2d9e4f-0a7c-4b1e-9f3a-2c5d8e1b7f40',
                      channel: 'email',
                      recipient: 'minji@example.com',
                      template: 'accounts.password-changed',
                      locale: 'ko',
                      subject: '비밀번호가 변경되었습니다',
                      bodyText:
                        'Minji님, 안녕하세요.\n\n계정 비밀번호가 변경되어 다른 기기의 로그인이 해제되었습니다. ' +
                        '본인이 아니라면 지금 비밀번호를 재설정하고 고객센터에 문의하세요.',
                      bodyHtml: null,
                      status: 'stored',
                      transport: 'local',
                      providerMessageId: null,
                      error: null,
                      createdAt: '2026-11-22T13:40:00.000Z',
                      sentAt: '2026-11-22T13:40:02.000Z',
                    },
                    OUTBOUND_EXAMPLE,
                  ],
                },
              ],
            },
          ),
        },
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
