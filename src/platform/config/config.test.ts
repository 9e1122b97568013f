import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';
import { EnvSchema } from './env.schema.ts';

describe('loadConfig', () => {
  it('applies documented defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config.server.port).toBe(3000);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.database.url).toBeUndefined();
    expect(config.dataDir.endsWith('.data')).toBe(true);
    expect(config.server.publicUrl).toBe('http://localhost:3000');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server.rateLimit)).toBe(true);
  });

  it('converts strings and nests settings', () => {
    const config = loadConfig({
      PORT: '8080',
      CORS_ORIGINS: 'https://a.test, https://b.test',
      TRUST_PROXY: 'true',
    });
    expect(config.server.port).toBe(8080);
    expect(config.server.corsOrigins).toEqual(['https://a.test', 'https://b.test']);
    expect(config.server.trustProxy).toBe(true);
  });

  it('lists every bad key in one error', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'abc', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', TWILIO_ACCOUNT_SID: 'AC1' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toContain('PORT');
    expect(problems).toContain('DATABASE_URL');
    expect(problems).toContain('LOG_LEVEL');
  });

  it('checks settings that only make sense together', () => {
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' })).toThrow(/TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN/);
    expect(() => loadConfig({ STORAGE_DRIVER: 's3' })).toThrow(/S3_BUCKET/);
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/APP_SECRET/);
  });

  it('treats an empty value as unset', () => {
    expect(loadConfig({ PORT: '', DATABASE_URL: ' ' }).database.url).toBeUndefined();
  });

  it('documents every setting in .env.example', () => {
    const example = fs.readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((match) => match[1]));
    expect([...documented].sort()).toEqual(Object.keys(EnvSchema.properties).sort());
  });
});
