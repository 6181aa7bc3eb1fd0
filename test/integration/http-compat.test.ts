/**
 * REST wire compatibility against real Zaqar 15.0.0: runs the reference capture tools
 * (`rest_capture.py`, `zaqarclient_rest_check.py`, `dlq_probe.py`, `hook_capture.py`) against
 * the whole app on port 0 (memory backend) through `scripts/compat/rest-diff.sh`, which
 * normalises both sides and diffs them with the stored captures. Each diff must equal the
 * checked-in list of accepted differences (`test/fixtures/compat/*-expected.diff`, explained
 * in docs/compatibility.md): a new difference fails, and so does a fixed one, until the
 * fixture is regenerated (`UPDATE_COMPAT_FIXTURES=1`).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';
import { PYTHON, zaqarclientUnavailable } from '../fixtures/zaqarclient/python.js';

/** The receivers of these tests listen on loopback: allowed past the webhook SSRF guard. */
const LOOPBACK_WEBHOOKS = '127.0.0.0/8,::1';

const SCRIPT = fileURLToPath(new URL('../../scripts/compat/rest-diff.sh', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/compat/', import.meta.url));
const VENDORED = `${FIXTURES}reference`;
/** The shared reference folder next to the checkout, when this machine has it. */
const SHARED = fileURLToPath(new URL('../../../shared/reference', import.meta.url));
const UPDATE = process.env['UPDATE_COMPAT_FIXTURES'] === '1';

function pythonUnavailable(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import http.client, json'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${PYTHON} not runnable: ${probe.error.message}`;
  return probe.status === 0 ? null : `${PYTHON} failed: ${probe.stderr.trim()}`;
}

const noPython = pythonUnavailable();
const noZaqarclient = noPython ?? zaqarclientUnavailable();
if (noZaqarclient !== null && process.env['CI'] !== undefined) {
  // CI installs Debian's python3-zaqarclient (.ci/run); its absence is a broken pipeline.
  throw new Error(`REST compatibility tests cannot run: ${noZaqarclient}`);
}

/** A port nothing listens on right now (for the webhook listener of hook_capture.py). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Runs rest-diff.sh for one part; resolves with its output (exit 0 or 1 = diff printed). */
function restDiff(port: number, part: string, hookPort: number): Promise<string> {
  const args = [SCRIPT, '--hook-port', String(hookPort), String(port), part];
  const env = { ...process.env, ZAQAR_REFERENCE: VENDORED, PYTHON };
  return new Promise((resolve, reject) => {
    execFile('bash', args, { env, timeout: 30_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && err.code !== 1) {
        reject(new Error(`rest-diff.sh ${part} failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve(stdout);
    });
  });
}

/** Compares with `<part>-expected.diff`, or rewrites it with UPDATE_COMPAT_FIXTURES=1. */
function expectFixture(part: string, actual: string): void {
  const file = `${FIXTURES}${part}-expected.diff`;
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe.skipIf(noPython !== null)('REST wire compatibility with the real Zaqar captures', { timeout: 60_000 }, () => {
  let app: App;
  let port: number;
  let hookPort: number;

  beforeAll(async () => {
    const config = parseConfig({ server: { host: '127.0.0.1', restPort: 0, wsPort: 0 }, log: { level: 'silent' }, webhooks: { allowedCidrs: LOOPBACK_WEBHOOKS } });
    // Markers from offset 0, as in the checked-in differences (by default they start from the clock).
    app = buildApp(config, { logger: createLogger({ level: 'silent' }), backend: new MemoryBackend({ firstQueueOffset: 0 }) });
    port = (await app.start()).restPort;
    hookPort = await freePort();
  }, 30_000);

  afterAll(async () => {
    await app?.close();
  });

  // The parts share one app; they run one after the other (each uses its own project).
  it('rest_capture.py: only the accepted differences', async () => {
    expectFixture('rest', await restDiff(port, 'rest', hookPort));
  }, 30_000);

  it.skipIf(noZaqarclient !== null)('zaqarclient_rest_check.py: only the accepted differences', async () => {
    expectFixture('zaqarclient', await restDiff(port, 'zaqarclient', hookPort));
  }, 30_000);

  it('dlq_probe.py: only the accepted differences', async () => {
    expectFixture('dlq', await restDiff(port, 'dlq', hookPort));
  }, 30_000);

  it('hook_capture.py: only the accepted differences (webhook deliveries)', async () => {
    expectFixture('hook', await restDiff(port, 'hook', hookPort));
  }, 30_000);

  it.skipIf(!existsSync(SHARED))('the vendored reference copies equal the shared reference', () => {
    const files = [
      'capture-tools/normalize.sh',
      'capture-tools/rest_capture.py',
      'capture-tools/zaqarclient_rest_check.py',
      'capture-tools/dlq_probe.py',
      'capture-tools/hook_capture.py',
      'captures/rest-v2-transcript.md',
      'captures/zaqarclient-rest-check.txt',
      'captures/webhook-and-dlq.txt',
    ];
    for (const f of files) {
      expect(readFileSync(`${VENDORED}/${f}`, 'utf8'), f).toBe(readFileSync(`${SHARED}/${f}`, 'utf8'));
    }
  });
});
