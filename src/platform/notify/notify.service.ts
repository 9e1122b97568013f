import type { Config } from '../config/config.ts';
import type { DbOrTx } from '../db/types.ts';
import type { Jobs } from '../jobs/jobs.ts';
import type { EmailTransport } from './email.transport.ts';
import { sendEmailJob, sendInAppJob, sendSmsJob } from './notify.jobs.ts';
import type { SmsTransport } from './sms.transport.ts';
import { renderTemplate } from './templates.ts';

export type Locale = 'en' | 'ko';

export interface NotifyRequest {
  readonly template: string;
  readonly data: Record<string, unknown>;
  readonly locale?: Locale;
  /** One entry per channel to use; a channel without a recipient is skipped. */
  readonly to: { readonly email?: string; readonly phone?: string; readonly userId?: string };
  /** Names the business event (e.g. `order-paid:42`): one event, one message per channel. */
  readonly dedupeKey: string;
}

export interface Notifier {
  readonly email: EmailTransport;
  readonly sms: SmsTransport;
  /**
   * Enqueues the messages in the caller's transaction, so they go out only if it commits.
   * Sending happens in jobs, never in the request.
   */
  notify(tx: DbOrTx, request: NotifyRequest): Promise<void>;
  close(): Promise<void>;
}

export function createNotifier(options: {
  jobs: Jobs;
  email: EmailTransport;
  sms: SmsTransport;
  locale: Config['locale'];
}): Notifier {
  const { jobs, email, sms } = options;
  return {
    email,
    sms,
    async notify(tx, request) {
      const locale = request.locale ?? options.locale.default;
      // Fails in the caller, not later in a job, on an unknown template or missing data.
      const rendered = renderTemplate(request.template, locale, request.data);
      if (request.to.phone && rendered.sms === null) {
        throw new Error(`Template ${request.template} has no SMS text; it cannot be sent by SMS`);
      }
      const base = { template: request.template, locale, data: request.data };
      if (request.to.email) {
        await jobs.enqueue(
          tx,
          sendEmailJob,
          { ...base, recipient: request.to.email },
          {
            dedupeKey: `email:${request.dedupeKey}:${request.to.email}`,
          },
        );
      }
      if (request.to.phone) {
        await jobs.enqueue(
          tx,
          sendSmsJob,
          { ...base, recipient: request.to.phone },
          {
            dedupeKey: `sms:${request.dedupeKey}:${request.to.phone}`,
          },
        );
      }
      if (request.to.userId) {
        await jobs.enqueue(
          tx,
          sendInAppJob,
          { ...base, userId: request.to.userId },
          {
            dedupeKey: `in-app:${request.dedupeKey}:${request.to.userId}`,
          },
        );
      }
    },
    async close() {
      await email.close();
    },
  };
}
