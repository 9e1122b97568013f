import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { users } from '../../src/modules/accounts/accounts.tables.ts';
import { createPasswordHasher } from '../../src/modules/accounts/passwords.ts';
import { openDatabase } from '../../src/platform/db/client.ts';
import { auditLog } from '../../src/platform/db/platform.tables.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `caravan create-admin …` as a process, with `stdin` piped in (spawnCaravan ignores stdin). */
function createAdmin(
  args: string[],
  env: Record<string, string | undefined>,
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'create-admin', ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.stdin.end(stdin);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('caravan create-admin', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caravan-create-admin-'));
  // The embedded database, whatever the test run uses.
  const env = { DATA_DIR: dataDir, DATABASE_URL: undefined, REDIS_URL: undefined, SEED_DEMO_DATA: 'false' };
  afterAll(() => {
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates admins, promotes an existing user, refuses bad input, and audits each change', async () => {
    const created = await createAdmin(['Ops@Example.test', '--name', 'Ops Lead'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(
      /Created administrator ops@example\.test \([0-9a-f-]{36}\); roles: staff, admin/,
    );
    const generated = /Password \(shown once, store it now\): (\S+)/.exec(created.stdout)?.[1];
    expect(generated?.length).toBeGreaterThanOrEqual(20);

    const short = await createAdmin(['second@example.test', '--password-stdin'], env, 'too short\n');
    expect(short.code).toBe(1);
    expect(short.stderr).toContain('the password on stdin must be at least 12 characters');
    const noEmail = await createAdmin([], env);
    expect(noEmail.code).toBe(1);
    expect(noEmail.stderr).toContain('give the administrator’s email address');
    expect(noEmail.stderr).toContain('Usage: caravan create-admin <email>');

    const piped = await createAdmin(
      ['second@example.test', '--password-stdin'],
      env,
      'a long enough passphrase\n',
    );
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('Created administrator second@example.test');
    expect(piped.stdout).not.toContain('Password');

    const promoted = await createAdmin(['ops@example.test'], env);
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toContain('Promoted the existing user ops@example.test');
    expect(promoted.stdout).toContain('Its password was not changed.');

    const database = await openDatabase({ kind: 'pglite', dataDir });
    try {
      const { db } = database;
      const passwords = createPasswordHasher({ memoryKib: 19_456, iterations: 2 });
      const [ops] = await db.select().from(users).where(eq(users.email, 'ops@example.test'));
      expect(ops).toMatchObject({ displayName: 'Ops Lead', status: 'active', roles: ['staff', 'admin'] });
      expect(ops!.emailVerifiedAt).toBeInstanceOf(Date);
      expect(await passwords.verify(ops!.passwordHash!, generated!)).toBe(true);
      const [second] = await db.select().from(users).where(eq(users.email, 'second@example.test'));
      expect(second).toMatchObject({ displayName: 'second', status: 'active', roles: ['staff', 'admin'] });
      // The newline `echo` adds is not part of the password.
      expect(await passwords.verify(second!.passwordHash!, 'a long enough passphrase')).toBe(true);

      const audit = await db.select().from(auditLog).orderBy(auditLog.id);
      expect(audit.map((row) => [row.action, row.actorId, row.targetId])).toEqual([
        ['user.create_admin', null, ops!.id],
        ['user.create_admin', null, second!.id],
        ['user.create_admin', null, ops!.id],
      ]);
      expect(audit[2]).toMatchObject({
        before: { roles: ['staff', 'admin'], status: 'active' },
        after: { roles: ['staff', 'admin'], status: 'active' },
      });
      expect(JSON.stringify(audit)).not.toContain('argon2');
    } finally {
      await database.close();
    }
  }, 180_000);
});
