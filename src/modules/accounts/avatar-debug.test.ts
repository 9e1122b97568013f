import { sql } from 'drizzle-orm';
import { it } from 'vitest';
import { createUser } from '../../../test/factories/users.ts';
import { startFakeOpenAi } from '../../../test/fakes/openai-server.ts';
import { buildTestApp } from '../../../test/harness/build-test-app.ts';
import { notifyModule } from '../../platform/notify/index.ts';
import { accountsModule } from './index.ts';

it('debug', async () => {
  const fake = await startFakeOpenAi();
  const app = await buildTestApp({
    modules: [notifyModule, accountsModule],
    listen: true,
    env: { OPENAI_API_KEY: fake.apiKey, OPENAI_BASE_URL: fake.baseUrl, LOG_LEVEL: 'debug' },
  });
  const user = await createUser(app);
  fake.failNext(500);
  const r = await app.http.inject({ method: 'POST', url: '/api/me/avatar/generate', headers: user.headers, payload: { style: 'x' } });
  console.log(r.statusCode, r.body);
  for (let i = 0; i < 16; i++) {
    await new Promise((res) => setTimeout(res, 1000));
    const rows = await app.platform.db.execute(sql`select name, state, retry_count, retry_limit, retry_delay, start_after, output from pgboss.job where name like 'accounts%'`);
    console.log(JSON.stringify((rows as unknown as { rows: unknown[] }).rows), fake.attempts.length);
  }
  await app.close();
  await fake.close();
}, 60000);
