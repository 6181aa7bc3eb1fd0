import { describe, expect, it } from 'vitest';
import { createMetrics, FOREIGN_REJECTED, Metrics } from '../../../src/observability/index.js';

describe('Metrics', () => {
  it('counts per label set and renders the Prometheus text format', () => {
    const m = createMetrics();
    expect(m.render()).toContain(`${FOREIGN_REJECTED} 0\n`);
    m.inc(FOREIGN_REJECTED, { outcome: 'dropped' });
    m.inc(FOREIGN_REJECTED, { outcome: 'dropped' });
    m.inc(FOREIGN_REJECTED, { outcome: 'dead_lettered' });
    expect(m.value(FOREIGN_REJECTED, { outcome: 'dropped' })).toBe(2);
    const text = m.render();
    expect(text).toContain(`# TYPE ${FOREIGN_REJECTED} counter\n`);
    expect(text).toContain(`${FOREIGN_REJECTED}{outcome="dropped"} 2\n`);
    expect(text).toContain(`${FOREIGN_REJECTED}{outcome="dead_lettered"} 1\n`);
  });

  it('escapes label values and refuses undeclared counters', () => {
    const m = new Metrics();
    m.counter('x_total', 'help');
    m.inc('x_total', { k: 'a"b\\c' });
    expect(m.render()).toContain('x_total{k="a\\"b\\\\c"} 1');
    expect(() => m.inc('nope_total')).toThrow(/not declared/);
  });
});
