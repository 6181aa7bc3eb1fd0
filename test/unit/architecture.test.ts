/**
 * The dependency rules of the style guide (§3), checked on the import graph of `src/`:
 * the core imports nothing but itself and `lib/`; transports never import backends; backends
 * never import transports; no import cycles; no `any` anywhere.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;

/** module (relative to src) → its imports: relative ones resolved to src paths, packages as is. */
const graph = new Map<string, string[]>(
  files(SRC).map((f) => {
    const text = readFileSync(f, 'utf8');
    const imports = [...text.matchAll(IMPORT)].map((m) => {
      const spec = m[1] ?? m[2] ?? '';
      if (!spec.startsWith('.')) return spec;
      return relative(SRC, resolve(dirname(f), spec)).replace(/\.js$/, '.ts');
    });
    return [relative(SRC, f), imports];
  }),
);

const room = (path: string): string => path.split('/')[0] ?? '';

describe('architecture', () => {
  it('reads the whole source tree', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.has('core/engine.ts')).toBe(true);
  });

  it('keeps the core pure: it imports only core, lib and node built-ins', () => {
    for (const [file, imports] of graph) {
      if (room(file) !== 'core') continue;
      for (const i of imports) {
        const ok = i.startsWith('node:') || room(i) === 'core' || room(i) === 'lib';
        expect(ok, `${file} imports ${i}`).toBe(true);
      }
    }
  });

  it('keeps transports and backends apart', () => {
    for (const [file, imports] of graph) {
      const r = room(file);
      for (const i of imports) {
        if (r === 'transports') expect(room(i), `${file} imports ${i}`).not.toBe('backends');
        if (r === 'backends') expect(room(i), `${file} imports ${i}`).not.toBe('transports');
        if (r !== 'app.ts' && r !== 'main.ts' && r !== 'transports') expect(room(i), `${file} imports ${i}`).not.toBe('transports');
      }
    }
  });

  it('has no import cycles', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' → '));
        return;
      }
      state.set(node, 'visiting');
      for (const next of graph.get(node) ?? []) if (graph.has(next)) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    expect(cycles).toEqual([]);
  });

  it('uses no `any`', () => {
    const code = (f: string): string =>
      readFileSync(f, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
    const offenders = files(SRC).filter((f) => /(:\s*any\b|\bas\s+any\b|<any>|\bany\[\])/.test(code(f)));
    expect(offenders.map((f) => relative(SRC, f))).toEqual([]);
  });
});
