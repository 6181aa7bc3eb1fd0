/**
 * WebSocket wire compatibility against real Zaqar 15.0.0: runs the reference capture tools
 * `ws_capture.py` (~86 exchanges, one message posted over REST) and `ws_roundtrip.py` against
 * the whole app on port 0 (memory backend) through `scripts/compat/ws-diff.sh`, which
 * normalises both sides and diffs them with the stored captures. Each diff must equal the
 * checked-in list of accepted differences (`test/fixtures/compat/ws-expected.diff`,
 * `ws-roundtrip-expected.diff`, explained in docs/compatibility.md, "WebSocket"): a new
 * difference fails, and so does a fixed one, until the fixture is regenerated
 * (`UPDATE_COMPAT_FIXTURES=1`). The authentication captures (`ws_auth_capture.py`, and
 * `ws_roundtrip.py` with a token) run against an app whose tokens are checked by the same
 * stand-in for keystonemiddleware the real server had when they were captured
 * (test/fixtures/compat/fake-keystone.ts).
 *
 * The app gets sequential ids: `subscription_list` is ordered by subscription id (as on real
 * Zaqar's redis backend), so with random ids the order of two subscriptions would change
 * from run to run. Sequential ids make it creation order, which is the captured order.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App, type AppOverrides } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { fakeKeystone } from '../fixtures/compat/fake-keystone.js';
import { sequentialIds } from '../fixtures/ws-harness.js';
import { PYTHON } from '../fixtures/zaqarclient/python.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/compat/ws-diff.sh', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/compat/', import.meta.url));
const VENDORED = `${FIXTURES}reference`;
/** The shared reference folder next to the checkout, when this machine has it. */
const SHARED = fileURLToPath(new URL('../../../shared/reference', import.meta.url));
const UPDATE = process.env['UPDATE_COMPAT_FIXTURES'] === '1';

/** Why the WS capture tools cannot run here (python3-websocket, python3-msgpack), or null. */
function wsToolsUnavailable(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import websocket, msgpack'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${PYTHON} not runnable: ${probe.error.message}`;
  if (probe.status === 0) return null;
  return `python3-websocket / python3-msgpack missing (${probe.stderr.trim().split('\n').at(-1) ?? ''})`;
}

const noTools = wsToolsUnavailable();
if (noTools !== null && process.env['CI'] !== undefined) {
  // CI installs Debian's python3-websocket and python3-msgpack (.ci/run).
  throw new Error(`WebSocket compatibility tests cannot run: ${noTools}`);
}

/** Runs ws-diff.sh for one part; resolves with its output (exit 0 or 1 = diff printed). */
function wsDiff(wsPort: number, restPort: number, part: string): Promise<string> {
  const args = [SCRIPT, String(wsPort), String(restPort), part];
  const env = { ...process.env, ZAQAR_REFERENCE: VENDORED, PYTHON };
  return new Promise((resolve, reject) => {
    execFile('bash', args, { env, timeout: 25_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && err.code !== 1) {
        reject(new Error(`ws-diff.sh ${part} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve(stdout);
    });
  });
}

/** Compares with `<name>-expected.diff`, or rewrites it with UPDATE_COMPAT_FIXTURES=1. */
function expectFixture(name: string, actual: string): void {
  const file = `${FIXTURES}${name}-expected.diff`;
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/**
 * One app on ports 0 (memory backend, sequential ids) for a describe block; `parts` run through
 * ws-diff.sh one after the other, each against its `<fixture>-expected.diff`.
 */
function compatSuite(title: string, overrides: Partial<AppOverrides>, parts: readonly { readonly test: string; readonly part: string; readonly fixture: string }[]): void {
  describe.skipIf(noTools !== null)(title, { timeout: 60_000 }, () => {
    let app: App;
    let wsPort: number;
    let restPort: number;

    beforeAll(async () => {
      const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' }, webhooks: { allowedCidrs: '127.0.0.0/8,::1' } });
      app = buildApp(config, { logger: createLogger({ level: 'silent' }), ids: sequentialIds(), ...overrides });
      const ports = await app.start();
      wsPort = ports.wsPort;
      restPort = ports.restPort;
    }, 30_000);

    afterAll(async () => {
      await app?.close();
    });

    for (const p of parts) {
      it(p.test, async () => {
        expectFixture(p.fixture, await wsDiff(wsPort, restPort, p.part));
      }, 30_000);
    }
  });
}

// The parts use separate projects (proj-ws, proj-rt), so they share one app.
compatSuite('WebSocket wire compatibility with the real Zaqar captures', {}, [
  { test: 'ws_capture.py: only the accepted differences', part: 'ws', fixture: 'ws' },
  { test: 'ws_roundtrip.py: only the accepted differences', part: 'roundtrip', fixture: 'ws-roundtrip' },
]);

compatSuite('WebSocket authentication: wire compatibility with the real Zaqar captures', { authenticator: fakeKeystone() }, [
  { test: 'ws_auth_capture.py: only the accepted differences', part: 'auth', fixture: 'ws-auth' },
  { test: 'ws_roundtrip.py with a token: only the accepted differences', part: 'roundtrip-auth', fixture: 'ws-roundtrip-auth' },
]);

describe('the vendored WebSocket reference', () => {
  it.skipIf(!existsSync(SHARED))('the vendored WebSocket reference copies equal the shared reference', () => {
    const files = [
      'capture-tools/ws_capture.py',
      'capture-tools/ws_roundtrip.py',
      'capture-tools/ws_auth_capture.py',
      'capture-tools/wslib.py',
      'captures/websocket-transcript.md',
      'captures/websocket-roundtrip-noauth.md',
      'captures/websocket-auth-transcript.md',
      'captures/websocket-roundtrip-auth.md',
    ];
    for (const f of files) {
      expect(readFileSync(`${VENDORED}/${f}`, 'utf8'), f).toBe(readFileSync(`${SHARED}/${f}`, 'utf8'));
    }
  });
});
