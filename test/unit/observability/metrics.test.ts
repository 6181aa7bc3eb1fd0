import { describe, expect, it } from 'vitest';
import { createMetrics, FOREIGN_REJECTED, Metrics } from '../../../src/observability/index.js';

describe('Metrics', () => {
  it('counts per label set and renders the Prometheus text format', async () => {
    const m = createMetrics({ defaultMetrics: false });
    expect(await m.render()).toContain(`${FOREIGN_REJECTED}{outcome="dropped"} 0\n`);
    m.inc(FOREIGN_REJECTED, { outcome: 'dropped' });
    m.inc(FOREIGN_REJECTED, { outcome: 'dropped' });
    m.inc(FOREIGN_REJECTED, { outcome: 'dead_lettered' });
    expect(m.value(FOREIGN_REJECTED, { outcome: 'dropped' })).toBe(2);
    const text = await m.render();
    expect(text).toContain(`# TYPE ${FOREIGN_REJECTED} counter\n`);
    expect(text).toContain(`${FOREIGN_REJECTED}{outcome="dropped"} 2\n`);
    expect(text).toContain(`${FOREIGN_REJECTED}{outcome="dead_lettered"} 1\n`);
  });

  it('escapes label values, takes label names from the first use, and refuses undeclared metrics', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.counter('x_total', 'help');
    m.inc('x_total', { k: 'a"b\\c' });
    expect(await m.render()).toContain('x_total{k="a\\"b\\\\c"} 1');
    expect(() => m.inc('nope_total')).toThrow(/not declared/);
    expect(() => m.inc('x_total', { other: 'v' })).toThrow();
  });

  it('keeps registries apart and adds Node/process default metrics', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.inc(FOREIGN_REJECTED, { outcome: 'not_json' });
    expect(b.value(FOREIGN_REJECTED, { outcome: 'not_json' })).toBe(0);
    const text = await b.render();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('nodejs_heap_size_used_bytes');
    expect(text).toContain(`${FOREIGN_REJECTED}{outcome="not_json"} 0\n`);
  });

  it('histograms count observations per label set', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.histogram('h_seconds', 'help', ['a'], [0.1, 1]);
    m.observe('h_seconds', { a: 'x' }, 0.5);
    m.observe('h_seconds', { a: 'x' }, 5);
    const text = await m.render();
    expect(text).toContain('h_seconds_bucket{le="0.1",a="x"} 0\n');
    expect(text).toContain('h_seconds_bucket{le="1",a="x"} 1\n');
    expect(text).toContain('h_seconds_count{a="x"} 2\n');
  });

  it('a series counts and observes as inc and observe do for its labels', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.counter('c_total', 'help', ['route', 'status']);
    m.histogram('d_seconds', 'help', ['route'], [0.1, 1]);
    const count = m.series('c_total', { route: '/a', status: '201' });
    const duration = m.series('d_seconds', { route: '/a' });
    count.inc();
    count.inc(2);
    m.inc('c_total', { route: '/a', status: '201' });
    duration.observe(0.5);
    m.observe('d_seconds', { route: '/a' }, 0.05);
    expect(m.value('c_total', { route: '/a', status: '201' })).toBe(4);
    const text = await m.render();
    expect(text).toContain('c_total{route="/a",status="201"} 4\n');
    expect(text).toContain('d_seconds_bucket{le="0.1",route="/a"} 1\n');
    expect(text).toContain('d_seconds_count{route="/a"} 2\n');
    expect(() => count.observe(1)).toThrow(/not a histogram/);
    expect(() => duration.inc()).toThrow(/is a histogram/);
  });
});
