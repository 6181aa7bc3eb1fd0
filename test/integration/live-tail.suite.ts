/**
 * The live-tail page (`/_ui/`, UI_ENABLED) in real headless Chromium (Debian's `chromium`,
 * driven by playwright-core; no browser download): a message posted over REST shows up; the
 * bridge restarts and the page reconnects by itself; a page that comes back (refresh,
 * navigation) resumes from its stored marker, showing what it missed and nothing twice. Run
 * on the embedded backend (`live-tail.test.ts`: a restart loses the log, the page says "gap")
 * and on RabbitMQ (`live-tail.rabbitmq.test.ts`: it resumes without one).
 *
 * `UPDATE_SCREENSHOT=1` also writes docs/live-tail.png (the README's picture).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const run = promisify(execFile);
const headers = { 'Client-ID': '0c7f3e9a-8d1b-4c2e-9f5a-6b7c8d9e0f1a', 'X-Project-ID': 'demo', 'Content-Type': 'application/json' };
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium && process.env['CI'] !== undefined) throw new Error(`The live-tail test needs Chromium at ${CHROMIUM} (Debian's chromium; .ci/run installs it).`);

let app: App;
let ports = { restPort: 0, wsPort: 0 };
let browser: Browser;
let page: Page;
let backend: Record<string, unknown> = {};

async function startBridge(restPort: number, wsPort: number): Promise<App> {
  const config = parseConfig({ server: { host: '127.0.0.1', restPort, wsPort }, log: { level: 'silent' }, ui: { enabled: true }, backend });
  const a = buildApp(config, { logger: createLogger({ level: 'silent' }), defaultMetrics: false });
  ports = await a.start();
  return a;
}

async function post(body: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${ports.restPort}/v2/queues/tripleo/messages`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ messages: [{ body, ttl: 3600 }] }),
  });
  expect(res.status).toBe(201);
}

const workflow = (n: number, status = 'RUNNING') => ({
  type: `tripleo.deployment.v1.step_${n}`,
  payload: { status, message: `step ${n}`, execution_id: `exec-${n}`, plan_name: 'overcloud' },
});

/** Waits until the table has `n` rows (evaluated in the page). */
async function rowsAre(n: number): Promise<void> {
  await page.waitForFunction(`document.querySelectorAll('#messages tr').length === ${n}`);
}

async function rowTypes(): Promise<string[]> {
  return page.$$eval('#messages tr td:nth-child(2)', (cells) => cells.map((c) => c.textContent ?? ''));
}

export interface LiveTailOptions {
  readonly name: string;
  /** The `backend` section of the config. */
  readonly backend: Record<string, unknown>;
  /** Whether the backend keeps the queue's log across a bridge restart. */
  readonly durable: boolean;
}

export function liveTailSuite(o: LiveTailOptions): void {
describe.skipIf(!hasChromium)(`the live-tail page in headless Chromium (${o.name})`, { timeout: 120_000 }, () => {
  beforeAll(async () => {
    backend = o.backend;
    // The page loads the compiled SDK (npm run build compiles it; here only the SDK is built).
    // Built aside and renamed into place file by file: two suites may build at once.
    const aside = `${ROOT}clients/js/.build-${process.pid}-${o.name}`;
    await run(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}clients/js/tsconfig.json`, '--outDir', aside]);
    await mkdir(`${ROOT}clients/js/dist`, { recursive: true });
    for (const f of await readdir(aside)) await rename(`${aside}/${f}`, `${ROOT}clients/js/dist/${f}`);
    await rm(aside, { recursive: true, force: true });
    app = await startBridge(0, 0);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows a message posted over REST, live', async () => {
    await page.goto(`http://127.0.0.1:${ports.restPort}/_ui/?project=demo&queue=tripleo`);
    await page.waitForSelector('#state[data-state="open"]');
    await post(workflow(1));
    await page.waitForSelector('#messages tr');
    expect(await rowTypes()).toEqual(['tripleo.deployment.v1.step_1']);
    expect(await page.textContent('#messages tr td:nth-child(3)')).toBe('exec-1');
  });

  it('reconnects by itself when the bridge restarts, and says what it knows', async () => {
    const { restPort, wsPort } = ports;
    await app.close();
    await page.waitForSelector('#state[data-state="connecting"]');
    app = await startBridge(restPort, wsPort);
    await page.waitForSelector('#state[data-state="open"]', { timeout: 30_000 });
    if (o.durable) {
      // The log survived: the page resumes where it was, nothing to replay, no gap.
      await page.waitForSelector('#note:not([hidden])');
      expect(await page.textContent('#note')).toBe('Resumed, 0 replayed.');
      expect(await page.$('#note.gap')).toBeNull();
    } else {
      // The embedded backend keeps nothing across a restart: the page is told so (a gap).
      await page.waitForSelector('#note.gap');
    }
    await post(workflow(2, 'SUCCESS'));
    await rowsAre(2);
    expect(await rowTypes()).toEqual(['tripleo.deployment.v1.step_2', 'tripleo.deployment.v1.step_1']);
    if (process.env['UPDATE_SCREENSHOT'] === '1' && !o.durable) await page.screenshot({ path: `${ROOT}docs/live-tail.png` });
  });

  it('resumes from its stored marker when the page comes back: what it missed, nothing twice', async () => {
    const url = page.url();
    await page.goto('about:blank');
    await post(workflow(3));
    await post(workflow(4, 'FAILED'));
    await page.goto(url);
    await page.waitForSelector('#state[data-state="open"]');
    await rowsAre(2);
    expect(await rowTypes()).toEqual(['tripleo.deployment.v1.step_4', 'tripleo.deployment.v1.step_3']);
    expect(await page.textContent('#note')).toBe('Resumed after a page refresh, 2 replayed.');
    await post(workflow(5));
    await rowsAre(3);
    // A plain reload right after: nothing missed, nothing repeated.
    await page.reload();
    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.textContent('#note')).toBe('Resumed after a page refresh, 0 replayed.');
    await post(workflow(6));
    await rowsAre(1);
    expect(await rowTypes()).toEqual(['tripleo.deployment.v1.step_6']);
  });
});
}
