/** Every configuration problem in one ZQR_ERR_CONFIG_INVALID report, never a crash with a stack. */
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../src/app.js';
import { ConfigError, loadConfig, parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/observability/index.js';

function problems(env: Record<string, string>): string {
  try {
    loadConfig({ env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('the configuration was accepted');
}

describe('configuration problems', () => {
  it('reports a bad variable and a limit out of range together', () => {
    const text = problems({ PORT: 'abc', DEFAULT_MESSAGE_TTL: '10' });
    expect(text).toMatch(/^ZQR_ERR_CONFIG_INVALID: invalid configuration \(2 problems\)/);
    expect(text).toContain('server.restPort [env PORT]');
    expect(text).toContain('limits.defaultMessageTtl [env DEFAULT_MESSAGE_TTL]: must be between 60 and');
  });

  it('refuses a HOST that cannot be bound, with the other problems', () => {
    const text = problems({ HOST: 'not a host!!', WS_PORT: '-1' });
    expect(text).toContain('(2 problems)');
    expect(text).toContain('server.host [env HOST]: must be an IP address or a host name');
    for (const host of ['0.0.0.0', '::', '127.0.0.1', 'localhost', 'zaqar.example.org']) {
      expect(loadConfig({ env: { HOST: host } }).server.host).toBe(host);
    }
  });

  it('QUEUE_SCHEMAS naming an unknown schema fails start with ZQR_ERR_CONFIG_INVALID, logged without a stack', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
    const config = parseConfig({ server: { restPort: 0, wsPort: 0 }, validation: { queueSchemas: [{ pattern: 'q*', schema: 'nosuchschema' }] } });
    const app = buildApp(config, { logger, defaultMetrics: false });
    const failure = await app.start().then(() => null, (e: unknown) => e);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).message).toContain("validation.queueSchemas [env QUEUE_SCHEMAS]: Queue pattern 'q*' is bound to unknown schema 'nosuchschema'");
    const fatal = lines.find((l) => l['event'] === 'start_failed');
    expect(fatal).toMatchObject({ level: 60, code: 'ZQR_ERR_CONFIG_INVALID' });
    expect(fatal).not.toHaveProperty('err');
  });
});
