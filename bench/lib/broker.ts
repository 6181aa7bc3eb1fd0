/**
 * A RabbitMQ node of the benchmark's own (own node name, ports and data directory), for the
 * scale benchmarks that need broker limits the shared node does not have: the open-file limit
 * raised to the machine's hard limit (Debian's `rabbitmq-server` wrapper switches user through
 * `su`, which resets it to 1024), and a higher `channel_max`. Stopped and deleted afterwards.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile, chown } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { connect } from 'amqplib';
import { freePort } from '../../test/fixtures/private-rabbitmq.js';

const run = promisify(execFile);

export interface BenchBroker {
  readonly url: string;
  readonly node: string;
  /** The node's data directory (streams live under it). */
  readonly dataDir: string;
  ctl(...args: string[]): Promise<string>;
  /** Resident memory of the node's Erlang VM, bytes. */
  rss(): Promise<number>;
  /** Bytes on disk under the data directory. */
  diskBytes(): Promise<number>;
  /** Bytes on disk per top-level entry of the node's directory, and per stream directory. */
  diskBreakdown(): Promise<Record<string, number>>;
  /** Names of the node's queues (streams included). */
  queues(): Promise<string[]>;
  close(): Promise<void>;
}

function idOf(flag: '-u' | '-g'): number {
  return Number(execFileSync('id', [flag, 'rabbitmq'], { encoding: 'utf8' }).trim());
}

export interface BenchBrokerOptions {
  /** `channel_max` (channels per connection); RabbitMQ's default is 2047. */
  readonly channelMax?: number;
}

export async function startBenchBroker(tag: string, options: BenchBrokerOptions = {}): Promise<BenchBroker> {
  if (process.getuid?.() !== 0) throw new Error('the benchmark broker is started as root (it runs the node as the rabbitmq user)');
  const dir = await mkdtemp(join(tmpdir(), `zb-rabbitmq-${tag}-`));
  const [amqpPort, distPort] = [await freePort(), await freePort()];
  const node = `zb-${tag}-${randomBytes(4).toString('hex')}@${hostname().split('.')[0] ?? 'localhost'}`;
  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  const mnesia = join(dir, 'mnesia');
  const log = join(dir, 'log');
  await mkdir(mnesia);
  await mkdir(log);
  await writeFile(join(dir, 'enabled_plugins'), '[].\n');
  const conf = [`listeners.tcp.default = 127.0.0.1:${amqpPort}`, 'loopback_users.guest = true'];
  if (options.channelMax !== undefined) conf.push(`channel_max = ${options.channelMax}`);
  await writeFile(join(dir, 'rabbitmq.conf'), `${conf.join('\n')}\n`);
  const [uid, gid] = [idOf('-u'), idOf('-g')];
  for (const p of [dir, mnesia, log, join(dir, 'enabled_plugins'), join(dir, 'rabbitmq.conf')]) await chown(p, uid, gid);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: '/var/lib/rabbitmq', // the rabbitmq user's Erlang cookie, which rabbitmqctl uses too
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: mnesia,
    RABBITMQ_LOG_BASE: log,
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
    RABBITMQ_PID_FILE: join(dir, 'node.pid'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
  };
  const ctl = async (...args: string[]): Promise<string> => (await run('rabbitmqctl', ['-n', node, ...args], { timeout: 120_000, encoding: 'utf8', maxBuffer: 64 << 20 })).stdout;
  // setpriv changes user without PAM, so the raised open-file limit survives (su resets it).
  const script = 'ulimit -n "$(ulimit -Hn)" && exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server -detached';
  await run('bash', ['-c', script], { env, cwd: dir, timeout: 60_000 });
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      await ctl('-q', 'await_startup', '--timeout', '30');
      const c = await connect(url);
      await c.close();
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await rm(dir, { recursive: true, force: true });
        throw new Error(`the benchmark broker did not start: ${err instanceof Error ? err.message : String(err)}`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const pid = async (): Promise<number> => Number((await readFile(join(dir, 'node.pid'), 'utf8')).trim());
  return {
    url,
    node,
    dataDir: mnesia,
    ctl,
    async rss() {
      const status = await readFile(`/proc/${await pid()}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) * 1024;
    },
    async diskBytes() {
      const out = (await run('du', ['-sb', mnesia], { encoding: 'utf8' })).stdout;
      return Number(out.split('\t')[0]);
    },
    async diskBreakdown() {
      const out = (await run('bash', ['-c', `du -sb ${mnesia}/*/* ${mnesia}/*/stream/* 2>/dev/null | sort -rn | head -12`], { encoding: 'utf8' })).stdout;
      const sizes: Record<string, number> = {};
      for (const line of out.split('\n')) {
        const [bytes, path] = line.split('\t');
        if (bytes !== undefined && path !== undefined) sizes[path.slice(mnesia.length + 1)] = Number(bytes);
      }
      return sizes;
    },
    async queues() {
      const out = await ctl('list_queues', '-q', '--no-table-headers', 'name');
      return out.split('\n').map((l) => l.trim()).filter((l) => l !== '');
    },
    async close() {
      await ctl('stop').catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
