import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { recordAudit } from '../../platform/audit/audit.ts';
import { CommandError, type ModuleCommand } from '../../platform/module.ts';
import type { PlatformServices } from '../../platform/services.ts';
import { accountsContext } from './accounts.context.ts';
import { normalizeRoles } from './staff.service.ts';
import { findUserByEmail, insertUser, lockUserById, normalizeEmail, updateUser } from './users.repo.ts';

export const CREATE_ADMIN_USAGE = 'caravan create-admin <email> [--name NAME] [--password-stdin]';
const MIN_PASSWORD = 12;
const MAX_PASSWORD = 200;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Where the command reads the password and writes its report (the process, or a test's buffers). */
export interface CommandIo {
  readStdin(): Promise<string>;
  print(line: string): void;
}

const processIo: CommandIo = {
  async readStdin() {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString('utf8');
  },
  print: (line) => console.log(line),
};

function usageError(message: string): Error {
  return new CommandError(`create-admin: ${message}\nUsage: ${CREATE_ADMIN_USAGE}`);
}

function parse(args: readonly string[]): { email: string; name: string | undefined; passwordStdin: boolean } {
  let parsed: ReturnType<
    typeof parseArgs<{
      options: { name: { type: 'string' }; 'password-stdin': { type: 'boolean' } };
      allowPositionals: true;
    }>
  >;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { name: { type: 'string' }, 'password-stdin': { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const [email, ...extra] = parsed.positionals;
  if (!email) throw usageError('give the administrator’s email address');
  if (extra.length > 0) throw usageError(`unexpected argument "${extra[0]}"`);
  const normalized = normalizeEmail(email);
  if (!EMAIL.test(normalized) || normalized.length > 254)
    throw usageError(`"${email}" is not an email address`);
  const name = parsed.values.name?.trim();
  if (name !== undefined && (name.length === 0 || name.length > 100)) {
    throw usageError('--name must be 1 to 100 characters');
  }
  return { email: normalized, name, passwordStdin: parsed.values['password-stdin'] ?? false };
}

async function readPassword(io: CommandIo): Promise<string> {
  // One trailing newline is what `echo` and a here-string add; it is not part of the password.
  const password = (await io.readStdin()).replace(/\r?\n$/, '');
  if (password.length < MIN_PASSWORD) {
    throw usageError(`the password on stdin must be at least ${MIN_PASSWORD} characters`);
  }
  if (password.length > MAX_PASSWORD) {
    throw usageError(`the password on stdin must be at most ${MAX_PASSWORD} characters`);
  }
  return password;
}

/**
 * Creates an active, email-verified administrator (roles admin + staff), or promotes the existing
 * account with that email (and reactivates it, and sets the piped password if one was given).
 * Audited with a null actor: the CLI runs as the operator of the machine, not as a user.
 */
export async function runCreateAdmin(
  services: PlatformServices,
  args: readonly string[],
  io: CommandIo = processIo,
): Promise<void> {
  const { email, name, passwordStdin } = parse(args);
  const piped = passwordStdin ? await readPassword(io) : undefined;
  const context = accountsContext(services);
  const { db, clock } = services;

  const existing = await findUserByEmail(db, email);
  if (existing) {
    if (existing.status === 'deleted')
      throw new CommandError(`create-admin: ${email} belongs to a deleted account`);
    const passwordHash = piped ? await context.passwords.hash(piped) : undefined;
    const user = await db.transaction(async (tx) => {
      const now = clock.now();
      const before = (await lockUserById(tx, existing.id))!;
      const updated = (await updateUser(tx, before.id, {
        roles: normalizeRoles([...before.roles, 'admin', 'staff']),
        status: 'active',
        emailVerifiedAt: before.emailVerifiedAt ?? now,
        ...(name ? { displayName: name } : {}),
        ...(passwordHash ? { passwordHash, passwordChangedAt: now } : {}),
      }))!;
      await recordAudit(tx, {
        actorId: null,
        action: 'user.create_admin',
        targetType: 'user',
        targetId: before.id,
        before: {
          roles: before.roles,
          status: before.status,
          emailVerified: before.emailVerifiedAt !== null,
        },
        after: {
          roles: updated.roles,
          status: updated.status,
          emailVerified: true,
          ...(passwordHash ? { passwordChanged: true } : {}),
        },
      });
      return updated;
    });
    io.print(
      `Promoted the existing user ${user.email} (${user.id}) to admin; roles: ${user.roles.join(', ')}.`,
    );
    if (existing.status !== 'active') io.print('The account was reactivated.');
    io.print(piped ? 'Its password was set from stdin.' : 'Its password was not changed.');
    return;
  }

  const generated = piped ? undefined : randomBytes(18).toString('base64url');
  const password = piped ?? generated!;
  const passwordHash = await context.passwords.hash(password);
  const user = await db.transaction(async (tx) => {
    const now = clock.now();
    const created = await insertUser(tx, {
      email,
      passwordHash,
      passwordChangedAt: now,
      emailVerifiedAt: now,
      roles: normalizeRoles(['admin', 'staff']),
      status: 'active',
      displayName: name ?? email.split('@')[0]!,
    });
    if (!created)
      throw new CommandError(`create-admin: ${email} was registered meanwhile; run the command again`);
    await recordAudit(tx, {
      actorId: null,
      action: 'user.create_admin',
      targetType: 'user',
      targetId: created.id,
      after: { roles: created.roles, status: created.status, emailVerified: true },
    });
    return created;
  });
  io.print(`Created administrator ${user.email} (${user.id}); roles: ${user.roles.join(', ')}.`);
  if (generated) io.print(`Password (shown once, store it now): ${generated}`);
}

export const createAdminCommand: ModuleCommand = {
  summary: `create or promote an administrator: ${CREATE_ADMIN_USAGE}`,
  run: (services, args) => runCreateAdmin(services, args),
};
