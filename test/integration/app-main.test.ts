/**
 * `main.ts` as `npm start` runs it: compiled with the build tsconfig, spawned with an
 * environment, logging the ports it bound, shutting down on SIGTERM, and refusing a bad
 * configuration with one message and exit status 1.
 *
 * The build goes to a temporary directory laid out like the repository (symlinked
 * `schemas/`, `node_modules/` and `package.json`), so the module-relative schema paths
 * resolve exactly as they do from `dist/`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMain, type BuiltMain } from '../fixtures/pods.js';

let built: BuiltMain | undefined;
let mainJs: string;

beforeAll(async () => {
  built = await buildMain();
  mainJs = built.mainJs;
}, 120_000);

afterAll(async () => {
  await built?.dispose();
});

interface Line {
  readonly event?: string;
  readonly [key: string]: unknown;
}

function start(env: Record<string, string>): { child: ChildProcess; lines: Line[]; waitFor: (event: string) => Promise<Line> } {
  const child = spawn(process.execPath, [mainJs], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Line[] = [];
  const waiters: { event: string; resolve: (l: Line) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Line;
    lines.push(line);
    for (const w of waiters.filter((x) => x.event === line.event)) w.resolve(line);
  });
  const waitFor = (event: string): Promise<Line> => {
    const seen = lines.find((l) => l.event === event);
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ event, resolve }));
  };
  return { child, lines, waitFor };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('main', () => {
  it('boots on PORT=0/WS_PORT=0, logs the bound ports, and exits 0 on SIGTERM', async () => {
    const { child, waitFor } = start({ PORT: '0', WS_PORT: '0', LOG_LEVEL: 'info' });
    const exited = exitOf(child);
    const listening = await waitFor('listening');
    const restPort = listening['restPort'] as number;
    expect(restPort).toBeGreaterThan(0);
    expect(listening['wsPort']).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${restPort}/_health/ready`)).status).toBe(200);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await waitFor('closed')).toHaveProperty('durationMs');
  });

  it('prints one clear message and exits 1 on an invalid configuration', async () => {
    const { child } = start({ PORT: 'eighty', LOG_LEVEL: 'loud' });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitOf(child)).toBe(1);
    expect(stderr).toMatch(/^zaqar-bridge: ZQR_ERR_CONFIG_INVALID: invalid configuration \(2 problems\)/);
    expect(stderr).toContain('server.restPort [env PORT]');
    expect(stderr).toContain('log.level [env LOG_LEVEL]');
  });
});
