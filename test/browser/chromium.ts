import fs from 'node:fs';
import path from 'node:path';
import { type Browser, chromium } from 'playwright-core';

/**
 * Browser tests drive Debian's `chromium` package (not a Playwright-downloaded build), so CI
 * installs it with apt only when test/browser exists. Flags from DESIGN.md: no sandbox (CI runs
 * as root in a container), no GPU, and none of the background traffic a fresh profile starts.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export type ChromiumLookup =
  | { readonly found: true; readonly executablePath: string }
  | { readonly found: false; readonly reason: string };

const isExecutableFile = (file: string): boolean => {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
};

/**
 * CHROMIUM_PATH when set (and then only it: a wrong explicit path is a mistake to report, not
 * to paper over), else /usr/bin/chromium, else `chromium` on PATH (what `which chromium` finds).
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const explicit = env.CHROMIUM_PATH?.trim();
  if (explicit) {
    return isExecutableFile(explicit)
      ? { found: true, executablePath: explicit }
      : { found: false, reason: `CHROMIUM_PATH=${explicit} is not an executable file` };
  }
  if (isExecutableFile('/usr/bin/chromium')) return { found: true, executablePath: '/usr/bin/chromium' };
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'chromium');
    if (isExecutableFile(candidate)) return { found: true, executablePath: candidate };
  }
  return {
    found: false,
    reason:
      'no Chromium: CHROMIUM_PATH is unset, /usr/bin/chromium does not exist and `chromium` is not on PATH ' +
      '(install it with `apt-get install -y chromium` or set CHROMIUM_PATH)',
  };
}

/** CI sets CI=true (GitHub Actions, GitLab, most others); "false", "0" or empty mean a developer machine. */
export function isCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS], headless: true });
}
