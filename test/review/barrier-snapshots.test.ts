/**
 * Review finding (part of "negative reads write to the catalogue"): barrier records count
 * towards the snapshot policy, so a pod whose catalogue only sees barriers (clients polling a
 * queue that does not exist yet) re-writes a full snapshot of an unchanged catalogue every
 * `records` barriers.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { createZaqarService, type CoreDiagnostic } from '../../src/core/engine.js';

describe('review: barriers and the snapshot policy', () => {
  it('an unchanged catalogue is not snapshotted again because of negative reads', async () => {
    const backend = new MemoryBackend();
    const seen: CoreDiagnostic[] = [];
    const pod = createZaqarService({ backend, catalogSnapshots: { records: 5, checkEveryMs: 10 }, diagnostics: (d) => seen.push(d) });
    await pod.start();
    try {
      await pod.createQueue({ project: 'p', clientId: null }, 'q');
      expect(await pod.snapshotCatalog()).not.toBeNull();
      const written = seen.filter((d) => d.type === 'catalog_snapshot_written').length;
      for (let i = 0; i < 20; i++) await pod.getQueue({ project: 'p', clientId: null }, `missing-${i}`);
      await new Promise((r) => setTimeout(r, 100)); // several policy checks
      expect(seen.filter((d) => d.type === 'catalog_snapshot_written').length).toBe(written);
    } finally {
      await pod.close();
    }
  });
});
