import { and, desc, eq, like } from 'drizzle-orm';
import { outboundMessages } from '../../src/platform/notify/notify.tables.ts';
import type { TestApp } from '../harness/build-test-app.ts';
import { waitFor } from '../harness/wait-for.ts';

/** Waits for an email to `recipient` whose template starts with `templatePrefix` in the local outbox. */
export async function waitForEmail(app: TestApp, recipient: string, template: string, after = new Date(0)) {
  return waitFor(
    async () => {
      const [row] = await app.platform.db
        .select()
        .from(outboundMessages)
        .where(and(eq(outboundMessages.recipient, recipient), like(outboundMessages.template, template)))
        .orderBy(desc(outboundMessages.createdAt))
        .limit(1);
      return row && row.createdAt >= after ? row : undefined;
    },
    { what: `${template} email to ${recipient}` },
  );
}

/** The `token=` value of the link in an email body. */
export function tokenFromEmail(body: string): string {
  const match = /token=([A-Za-z0-9_-]+)/.exec(body);
  if (!match?.[1]) throw new Error(`no token link in: ${body}`);
  return match[1];
}
