import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config/config.ts';

export type { Logger };

export function loggerOptions(level: LogLevel): pino.LoggerOptions {
  const pretty = process.stdout.isTTY && level !== 'silent';
  return {
    level,
    base: { service: 'caravan' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.secret'],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  };
}

export function createLogger(level: LogLevel): Logger {
  return pino(loggerOptions(level));
}
