/** fastify's per-request logger is made on first use and writes what a pino child would. */
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { createLogger } from '../../../src/observability/index.js';
import { RequestLogger } from '../../../src/transports/http/request-logger.js';

function setup(level: string): { lines: Record<string, unknown>[]; parent: FastifyBaseLogger; children: () => number } {
  const lines: Record<string, unknown>[] = [];
  const root = createLogger({ level, destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  let made = 0;
  const parent = new Proxy(root, {
    get(target, key, receiver): unknown {
      if (key === 'child') {
        return (...args: Parameters<typeof root.child>) => {
          made += 1;
          return target.child(...args);
        };
      }
      const v: unknown = Reflect.get(target, key, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as FastifyBaseLogger;
  return { lines, parent, children: () => made };
}

describe('RequestLogger', () => {
  it('makes no child for lines below the level, and one for the first line written', () => {
    const { lines, parent, children } = setup('info');
    const log = RequestLogger.factory(parent, { reqId: 'req-1' }, {});
    log.debug({ a: 1 }, 'not written');
    log.trace('nor this');
    expect(children()).toBe(0);
    expect(lines).toEqual([]);
    log.info({ a: 2 }, 'written');
    log.warn('again');
    expect(children()).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, reqId: 'req-1', a: 2, msg: 'written' }),
      expect.objectContaining({ level: 40, reqId: 'req-1', msg: 'again' }),
    ]);
  });

  it('redacts as the root logger does', () => {
    const { lines, parent } = setup('info');
    RequestLogger.factory(parent, { reqId: 'req-2' }, {}).error({ req: { headers: { 'x-auth-token': 'secret-token' } } }, 'x');
    expect(JSON.stringify(lines)).not.toContain('secret-token');
    expect(lines[0]).toMatchObject({ reqId: 'req-2', level: 50 });
  });

  it('honours a route level and a level set later', () => {
    const { lines, parent } = setup('info');
    const routeLevel = RequestLogger.factory(parent, { reqId: 'r3' }, { level: 'debug' });
    expect(routeLevel.level).toBe('debug');
    routeLevel.debug('route debug');
    const later = RequestLogger.factory(parent, { reqId: 'r4' }, {});
    expect(later.level).toBe('info');
    later.level = 'error';
    later.warn('dropped');
    later.error('kept');
    expect(lines.map((l) => [l['reqId'], l['msg']])).toEqual([
      ['r3', 'route debug'],
      ['r4', 'kept'],
    ]);
  });

  it('gives children of the real child', () => {
    const { lines, parent } = setup('info');
    RequestLogger.factory(parent, { reqId: 'r5' }, {}).child({ step: 'auth' }).info('nested');
    expect(lines[0]).toMatchObject({ reqId: 'r5', step: 'auth', msg: 'nested' });
  });
});
