/**
 * Review finding: close() promises "a last snapshot" covering everything the pod folded, but
 * when a snapshot is already being written (the policy timer, the boot snapshot or an operator's
 * snapshotCatalog()), `#snapshot()` returns that in-flight write, which covers an older offset:
 * records folded meanwhile are covered by no snapshot when the pod stops.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backends/memory/index.js';
import { createZaqarService } from '../../src/core/engine.js';
import type { LogSnapshot } from '../../src/core/ports.js';
import { DelegatingBackend } from '../fixtures/delegating-backend.js';

describe('review: close() while a snapshot is being written', () => {
  it('still writes a snapshot covering the last record folded', async () => {
    const backend = new MemoryBackend();
    let slow = false;
    const wrapped = new (class extends DelegatingBackend {
      override async saveCatalogSnapshot(s: LogSnapshot): Promise<void> {
        if (slow) await new Promise((r) => setTimeout(r, 100)); // a broker confirm taking 100 ms
        return super.saveCatalogSnapshot(s);
      }
    })(backend);
    const pod = createZaqarService({ backend: wrapped });
    await pod.start();
    const ctx = { project: 'p', clientId: null };
    await pod.createQueue(ctx, 'a');
    slow = true;
    const inFlight = pod.snapshotCatalog(); // covers 'a'
    await pod.createQueue(ctx, 'b'); // folded while that snapshot is being written
    await pod.close();
    await inFlight;
    const last = await backend.loadCatalogSnapshot();
    const restored = createZaqarService({ backend });
    await restored.start();
    try {
      // Everything the closed pod folded must be in a snapshot (only the new pod's barrier after it).
      expect(restored.catalogOrigin.recordsFolded).toBe(1);
      expect(last?.offset).toBe(2); // 0: its barrier, 1: a, 2: b
    } finally {
      await restored.close();
    }
  });
});
