import Type from 'typebox';
import { defineJob } from '../jobs/define-job.ts';
import type { PlatformServices } from '../services.ts';
import { insertInApp, markOutbound, type NewOutboundMessage, upsertOutbound } from './notify.repo.ts';
import { renderTemplate } from './templates.ts';

const Locale = Type.Union([Type.Literal('en'), Type.Literal('ko')]);

const MessagePayload = Type.Object({
  template: Type.String({ minLength: 1 }),
  locale: Locale,
  recipient: Type.String({ minLength: 1 }),
  data: Type.Record(Type.String(), Type.Unknown()),
});

/**
 * The delivery both channels share. The outbound row (unique by dedupe key) is written first, so a
 * retry after a crash finds it and does not send twice once it is marked sent; with no vendor
 * configured the row itself is the delivery (the local outbox staff can read). A permanent vendor
 * error (an invalid number, an SMTP 5xx) is dead-lettered by the job runtime, not retried.
 */
async function deliver(
  services: PlatformServices,
  row: NewOutboundMessage,
  transportKind: string,
  send: () => Promise<{ providerMessageId: string | null }>,
): Promise<void> {
  const message = await upsertOutbound(services.db, row);
  if (message.status === 'sent' || message.status === 'stored') return;
  if (transportKind === 'local') {
    await markOutbound(services.db, message.id, { status: 'stored', sentAt: services.clock.now() });
    return;
  }
  try {
    const result = await send();
    await markOutbound(services.db, message.id, {
      status: 'sent',
      providerMessageId: result.providerMessageId,
      sentAt: services.clock.now(),
      error: null,
    });
  } catch (error) {
    await markOutbound(services.db, message.id, { status: 'failed', error: String(error) });
    throw error;
  }
}

export const sendEmailJob = defineJob(
  'notify.email',
  MessagePayload,
  async ({ payload, dedupeKey, services }) => {
    const transport = services.notifier.email;
    const rendered = renderTemplate(payload.template, payload.locale, payload.data);
    await deliver(
      services,
      {
        channel: 'email',
        recipient: payload.recipient,
        template: payload.template,
        locale: rendered.locale,
        subject: rendered.subject,
        bodyText: rendered.text,
        bodyHtml: rendered.html,
        transport: transport.kind,
        dedupeKey,
      },
      transport.kind,
      () =>
        transport.send({
          to: payload.recipient,
          subject: rendered.subject,
          text: rendered.text,
          ...(rendered.html ? { html: rendered.html } : {}),
        }),
    );
  },
);

export const sendSmsJob = defineJob(
  'notify.sms',
  MessagePayload,
  async ({ payload, dedupeKey, services }) => {
    const transport = services.notifier.sms;
    const rendered = renderTemplate(payload.template, payload.locale, payload.data);
    // The notifier refuses to enqueue an SMS for a template without SMS text, so this only guards
    // against a template edited after the job was queued.
    const body = rendered.sms ?? rendered.subject;
    await deliver(
      services,
      {
        channel: 'sms',
        recipient: payload.recipient,
        template: payload.template,
        locale: rendered.locale,
        subject: null,
        bodyText: body,
        transport: transport.kind,
        dedupeKey,
      },
      transport.kind,
      () => transport.send({ to: payload.recipient, body }),
    );
  },
);

const InAppPayload = Type.Object({
  template: Type.String({ minLength: 1 }),
  locale: Locale,
  userId: Type.String({ minLength: 1 }),
  data: Type.Record(Type.String(), Type.Unknown()),
});

/** Stores the notification, then pushes it to the user's channel (once: the insert is the claim). */
export const sendInAppJob = defineJob(
  'notify.in-app',
  InAppPayload,
  async ({ payload, dedupeKey, services }) => {
    const rendered = renderTemplate(payload.template, payload.locale, payload.data);
    const row = await insertInApp(services.db, {
      userId: payload.userId,
      template: payload.template,
      title: rendered.title,
      body: rendered.body,
      data: payload.data,
      dedupeKey,
    });
    if (!row) return;
    await services.hub.publish(`user:${payload.userId}`, {
      type: 'notification',
      data: {
        id: row.id,
        template: row.template,
        title: row.title,
        body: row.body,
        data: row.data,
        createdAt: row.createdAt,
      },
    });
  },
);

export const notifyJobs = [sendEmailJob, sendSmsJob, sendInAppJob];
