import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { DEFAULT_LIMITS } from '../../../src/core/limits.js';
import { CONFIG_SCHEMA_URL, ConfigError, ENV_VARS, loadConfig, parseConfig, parseQueueSchemas } from '../../../src/config/index.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives Zaqar defaults and the memory backend with an empty environment', () => {
    const config = loadConfig({ env: {} });
    expect(config).toEqual({
      server: { host: '127.0.0.1', restPort: 8888, wsPort: 9000 },
      backend: { type: 'memory' },
      log: { level: 'info' },
      limits: DEFAULT_LIMITS,
      validation: { queueSchemas: [] },
      ws: { heartbeatIntervalMs: 30000 },
      webhooks: {},
      shutdown: { timeoutMs: 10000 },
      ui: { enabled: false },
      auth: {
        strategy: 'noauth',
        cacheTtlSeconds: 300,
        timeoutMs: 3000,
        keystoneUserDomainName: 'Default',
        keystoneProjectDomainName: 'Default',
        jwtJwksCooldownMs: 30000,
        jwtProjectClaim: 'project_id',
        jwtRolesClaim: 'roles',
      },
    });
  });

  it('keeps schema defaults and DEFAULT_LIMITS in step', () => {
    const schema = JSON.parse(readFileSync(CONFIG_SCHEMA_URL, 'utf8')) as {
      properties: { limits: { properties: Record<string, { default: number }> } };
    };
    const fromSchema = Object.fromEntries(Object.entries(schema.properties.limits.properties).map(([k, v]) => [k, v.default]));
    expect(fromSchema).toEqual({ ...DEFAULT_LIMITS });
  });

  it('maps every variable of the table and coerces numbers', () => {
    const config = loadConfig({
      env: {
        HOST: '0.0.0.0',
        PORT: '0',
        WS_PORT: '9001',
        RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
        RABBITMQ_EXCHANGE: 'zq',
        LOG_LEVEL: 'debug',
        MAX_MESSAGES_POST_SIZE: '1048576',
        DEFAULT_MESSAGE_TTL: '600',
        SCHEMA_DIR: '/etc/zaqar-bridge/schemas',
        QUEUE_SCHEMAS: 'tripleo*=tripleo-workflow-message-v1, events=orchestrator-event-v1',
        SHUTDOWN_TIMEOUT_MS: '5000',
        WS_HEARTBEAT_INTERVAL_MS: '1000',
        WS_MAX_FRAME_BYTES: '2097152',
        WS_MAX_BUFFERED_BYTES: '4194304',
      },
    });
    expect(config.server).toEqual({ host: '0.0.0.0', restPort: 0, wsPort: 9001 });
    expect(config.backend).toEqual({ type: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672', exchange: 'zq' });
    expect(config.log.level).toBe('debug');
    expect(config.limits.maxMessagesPostSize).toBe(1048576);
    expect(config.limits.defaultMessageTtl).toBe(600);
    expect(config.validation).toEqual({
      schemaDir: '/etc/zaqar-bridge/schemas',
      queueSchemas: [
        { pattern: 'tripleo*', schema: 'tripleo-workflow-message-v1' },
        { pattern: 'events', schema: 'orchestrator-event-v1' },
      ],
    });
    expect(config.shutdown.timeoutMs).toBe(5000);
    expect(config.ws).toEqual({ heartbeatIntervalMs: 1000, maxFrameBytes: 2097152, maxBufferedBytes: 4194304 });
  });

  it('requires the settings of the chosen auth strategy and keeps noauth the default', () => {
    expect(loadConfig({ env: {} }).auth.strategy).toBe('noauth');
    const ks = configError(() => loadConfig({ env: { AUTH_STRATEGY: 'keystone', KEYSTONE_URL: 'http://k:5000/v3' } }));
    expect(ks.message).toContain('auth.keystoneUsername');
    expect(ks.message).toContain('auth.keystonePassword');
    expect(ks.message).not.toContain('auth.keystoneUrl');
    const jwt = configError(() => loadConfig({ env: { AUTH_STRATEGY: 'jwt' } }));
    expect(jwt.message).toContain('exactly one of jwtJwksUrl and jwtPublicKeyFile');
    expect(configError(() => loadConfig({ env: { AUTH_STRATEGY: 'ldap' } })).message).toContain('auth.strategy');
    const ok = loadConfig({ env: { AUTH_STRATEGY: 'jwt', JWT_JWKS_URL: 'http://i/jwks', AUTH_CACHE_TTL_SECONDS: '5' } });
    expect(ok.auth).toMatchObject({ strategy: 'jwt', jwtJwksUrl: 'http://i/jwks', cacheTtlSeconds: 5, jwtProjectClaim: 'project_id' });
  });

  it('has a unique name and a description for every variable', () => {
    const names = ENV_VARS.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
    for (const v of ENV_VARS) expect(v.description.length).toBeGreaterThan(5);
  });

  it('defaults the exchange to zaqar when only RABBITMQ_URL is set', () => {
    expect(loadConfig({ env: { RABBITMQ_URL: 'amqp://localhost' } }).backend).toEqual({
      type: 'rabbitmq',
      url: 'amqp://localhost',
      exchange: 'zaqar',
    });
  });

  it('treats blank variables as unset and ignores variables not in the table', () => {
    const config = loadConfig({ env: { PORT: '  ', RABBITMQ_URL: '', SOMETHING_ELSE: 'x' } });
    expect(config.server.restPort).toBe(8888);
    expect(config.backend.type).toBe('memory');
  });

  it('reports every problem at once in one ZQR_ERR_CONFIG_INVALID', () => {
    const err = configError(() =>
      loadConfig({ env: { PORT: 'eighty', WS_PORT: '70000', LOG_LEVEL: 'loud', RABBITMQ_EXCHANGE: 'x', QUEUE_SCHEMAS: 'oops' } }),
    );
    expect(err.code).toBe('ZQR_ERR_CONFIG_INVALID');
    expect(err.message).toMatch(/^ZQR_ERR_CONFIG_INVALID: invalid configuration \(5 problems\)/);
    const byPath = Object.fromEntries(err.issues.map((i) => [i.path, i]));
    expect(byPath['server.restPort']).toMatchObject({ source: 'env PORT', message: expect.stringContaining('"eighty"') });
    expect(byPath['server.wsPort']).toMatchObject({ source: 'env WS_PORT', message: expect.stringContaining('<= 65535') });
    expect(byPath['log.level']?.message).toContain('fatal, error, warn, info, debug, trace, silent');
    expect(byPath['backend.exchange']).toMatchObject({ source: 'env RABBITMQ_EXCHANGE', message: 'is not a known setting with the memory backend' });
    expect(byPath['validation.queueSchemas']).toMatchObject({ source: 'env QUEUE_SCHEMAS', message: expect.stringContaining('pattern=schema') });
  });

  it('never shows the AMQP password in an error', () => {
    const err = configError(() => loadConfig({ env: { RABBITMQ_URL: 'http://user:s3cret@host' } }));
    expect(err.message).toContain('backend.url');
    expect(err.message).not.toContain('s3cret');
  });

  it('checks min <= default <= max across fields', () => {
    const err = configError(() => loadConfig({ env: { DEFAULT_MESSAGE_TTL: '30' } }));
    expect(err.issues).toEqual([
      { path: 'limits.defaultMessageTtl', source: 'env DEFAULT_MESSAGE_TTL', message: 'must be between 60 and 1209600 (got 30)' },
    ]);
  });

  it('reads CONFIG_FILE, with the environment on top', () => {
    const file = JSON.stringify({
      server: { restPort: 1234, host: '::' },
      backend: { type: 'rabbitmq', url: 'amqp://file-host', exchange: 'from-file' },
      limits: { maxClaimTtl: 600 },
    });
    const config = loadConfig({
      env: { CONFIG_FILE: '/etc/zb.json', PORT: '4321' },
      readFile: (p) => {
        expect(p).toBe('/etc/zb.json');
        return file;
      },
    });
    expect(config.server).toEqual({ host: '::', restPort: 4321, wsPort: 9000 });
    expect(config.backend).toEqual({ type: 'rabbitmq', url: 'amqp://file-host', exchange: 'from-file' });
    expect(config.limits.maxClaimTtl).toBe(600);
  });

  it('rejects unknown keys in the file and names the file', () => {
    const err = configError(() =>
      loadConfig({ env: { CONFIG_FILE: 'c.json' }, readFile: () => '{"server":{"prot":1},"backend":{"type":"kafka"}}' }),
    );
    expect(err.issues).toEqual(
      expect.arrayContaining([
        { path: 'server.prot', source: 'file c.json', message: 'is not a known setting here' },
        { path: 'backend.type', source: 'file c.json', message: 'must be one of: memory, rabbitmq' },
      ]),
    );
  });

  it('reports an unreadable or malformed file', () => {
    const unreadable = configError(() =>
      loadConfig({
        env: { CONFIG_FILE: 'nope.json' },
        readFile: () => {
          throw new Error('ENOENT: no such file');
        },
      }),
    );
    expect(unreadable.issues[0]?.message).toContain('ENOENT');
    expect(configError(() => loadConfig({ env: { CONFIG_FILE: 'x' }, readFile: () => '[1]' })).issues[0]?.message).toBe(
      'the config file must hold a JSON object',
    );
    expect(configError(() => loadConfig({ env: { CONFIG_FILE: 'x' }, readFile: () => '{' })).issues[0]?.message).toMatch(
      /not valid JSON/,
    );
  });

  it('deep-freezes the result', () => {
    const config = loadConfig({ env: { QUEUE_SCHEMAS: 'a=b' } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.validation.queueSchemas[0])).toBe(true);
    expect(() => {
      (config.server as { restPort: number }).restPort = 1;
    }).toThrow(TypeError);
  });
});

describe('parseConfig', () => {
  it('fills defaults into a partial object without touching the input', () => {
    const input = { server: { restPort: 0, wsPort: 0 } };
    const config = parseConfig(input);
    expect(config.server).toEqual({ host: '127.0.0.1', restPort: 0, wsPort: 0 });
    expect(input).toEqual({ server: { restPort: 0, wsPort: 0 } });
  });

  it('requires url for the rabbitmq backend', () => {
    expect(configError(() => parseConfig({ backend: { type: 'rabbitmq' } })).issues).toEqual([
      { path: 'backend.url', source: 'object', message: 'is required' },
    ]);
  });
});

describe('parseQueueSchemas', () => {
  it('splits pattern=schema pairs and skips empty entries', () => {
    expect(parseQueueSchemas('a*=s1,,b = s2 ,')).toEqual([
      { pattern: 'a*', schema: 's1' },
      { pattern: 'b', schema: 's2' },
    ]);
  });

  it('rejects entries without a pattern or a schema', () => {
    expect(parseQueueSchemas('=s')).toEqual({ issue: 'entry "=s" is not of the form pattern=schema' });
    expect(parseQueueSchemas('a=')).toEqual({ issue: 'entry "a=" is not of the form pattern=schema' });
  });
});
