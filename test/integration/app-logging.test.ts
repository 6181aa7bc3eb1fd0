/** Secrets never reach the log: tokens, authorization headers, AMQP passwords. */
import { describe, expect, it } from 'vitest';
import { createLogger, LogEvents, redactUrl } from '../../src/observability/index.js';
import { loadConfig } from '../../src/config/index.js';

function capture(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } }) };
}

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('amqp://guest:s3cret@mq.example:5672/vh')).toBe('amqp://guest:[REDACTED]@mq.example:5672/vh');
    expect(redactUrl('amqps://mq.example')).toBe('amqps://mq.example');
    expect(redactUrl('amqp://u:p@h/?password=x&heartbeat=5')).toBe('amqp://u:[REDACTED]@h/?password=[REDACTED]&heartbeat=5');
  });

  it('scrubs unparsable URLs textually', () => {
    expect(redactUrl('amqp://user:pa ss@bad host')).toBe('amqp://user:[REDACTED]@bad host');
  });
});

describe('root logger', () => {
  it('redacts tokens and authorization headers, REST and WebSocket spellings', () => {
    const { lines, logger } = capture();
    logger.info({ req: { headers: { 'x-auth-token': 'tok1', authorization: 'Bearer tok2' } } }, 'rest');
    logger.info({ frame: { action: 'authenticate', headers: { 'X-Auth-Token': 'tok3' } } }, 'ws');
    logger.info({ headers: { 'X-Auth-Token': 'tok4' } }, 'bare');
    const out = lines.join('');
    for (const secret of ['tok1', 'tok2', 'tok3', 'tok4']) expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED]');
  });

  it('keeps URLs but not their passwords', () => {
    const { lines, logger } = capture();
    logger.info({ url: 'amqp://guest:s3cret@mq:5672' }, 'x');
    logger.info({ backend: { url: 'amqp://guest:s3cret@mq:5672' } }, 'y');
    expect(lines.join('')).not.toContain('s3cret');
    expect(lines[0]).toContain('amqp://guest:[REDACTED]@mq:5672');
  });

  it('logs the loaded configuration without the AMQP password', () => {
    const { lines, logger } = capture();
    new LogEvents(logger).configLoaded(loadConfig({ env: { RABBITMQ_URL: 'amqp://guest:s3cret@mq:5672' } }));
    const line = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(line['event']).toBe('config_loaded');
    expect(JSON.stringify(line)).not.toContain('s3cret');
    expect(line['backend']).toEqual({ type: 'rabbitmq', url: 'amqp://guest:[REDACTED]@mq:5672', exchange: 'zaqar' });
  });
});
