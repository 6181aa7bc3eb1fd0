/**
 * Review finding: a catalogue record the fold does not know (an event type added by a newer
 * version during a rolling upgrade, or anything else with a valid envelope) makes
 * `CatalogState.apply` store `undefined` as that rid's outcome in the dedupe window. Every
 * later `snapshot()` then throws (`encodeOutcome(undefined)` reads `.type`) until 1,024 other
 * catalogue records push the rid out of the window — and the failure is not reported
 * (`catalog_snapshot_failed` is only emitted for the backend write). A quiet deployment (fewer
 * than 1,024 catalogue writes in 7 days) then has its catalogue head removed by retention with
 * no snapshot covering it: new pods refuse to start.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { CatalogState } from '../../src/core/catalog-state.js';
import { createZaqarService, type CoreDiagnostic } from '../../src/core/engine.js';
import type { CatalogEvent, LogEvent } from '../../src/core/events.js';

describe('review: an unknown catalogue record', () => {
  it('does not break CatalogState.snapshot()', () => {
    const s = new CatalogState();
    s.apply({ type: 'queue_create', rid: 'a', at: 1, project: 'p', queue: 'q', metadata: {} }, 0);
    s.apply({ type: 'queue_rename', rid: 'b', at: 2, project: 'p', queue: 'q' } as unknown as CatalogEvent, 1);
    expect(() => s.snapshot()).not.toThrow();
  });

  it('does not stop the engine from writing snapshots (and a failure is reported)', async () => {
    const backend = new MemoryBackend();
    const seen: CoreDiagnostic[] = [];
    const pod = createZaqarService({ backend, diagnostics: (d) => seen.push(d) });
    await pod.start();
    try {
      await pod.createQueue({ project: 'p', clientId: null }, 'q');
      // What a newer pod would write during a rolling upgrade.
      await backend.append({ kind: 'catalog' }, { type: 'queue_rename', rid: 'new-type', at: Date.now(), project: 'p', queue: 'q' } as unknown as LogEvent);
      await pod.createQueue({ project: 'p', clientId: null }, 'q2'); // folded after it
      const result = await pod.snapshotCatalog().then(
        (offset) => ({ offset }),
        (e: unknown) => ({ error: String(e) }),
      );
      expect(result).toEqual({ offset: 3 });
    } finally {
      await pod.close();
    }
  });
});
