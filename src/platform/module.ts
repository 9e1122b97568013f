import type { AppInstance } from './http/http-app.ts';
import type { CronDefinition, JobDefinition } from './jobs/define-job.ts';
import type { PlatformServices } from './services.ts';

/**
 * What a feature module hands the app: its jobs and schedules, its routes, and a setup step for
 * anything else it plugs in (realtime channel rules, the token verifier, templates).
 */
export interface CaravanModule {
  readonly name: string;
  readonly jobs?: readonly JobDefinition[];
  readonly crons?: readonly CronDefinition[];
  setup?(services: PlatformServices): void | Promise<void>;
  routes?(app: AppInstance, services: PlatformServices): void | Promise<void>;
  /** Demo data for `caravan seed` and a first `caravan start`; must be safe to run twice. */
  seed?(services: PlatformServices): Promise<void>;
  /** CLI commands this module adds (`caravan <name> [args]`), e.g. accounts' `create-admin`. */
  readonly commands?: Readonly<Record<string, ModuleCommand>>;
}

export interface ModuleCommand {
  readonly summary: string;
  run(services: PlatformServices, args: readonly string[]): Promise<void>;
}

/** A command's refusal of its input: the CLI prints the message alone and exits 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
}
