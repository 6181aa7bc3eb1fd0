/**
 * WebSocket ping/pong liveness (style point 18): every interval each peer that answered the
 * previous ping is pinged again; a peer that did not is terminated. Only protocol-level ping
 * frames are sent, never application frames (real clients choke on those, real-clients §9).
 */

/** The two things the heartbeat needs from a socket. */
export interface Pingable {
  ping(): void;
  terminate(): void;
}

export class Heartbeat {
  readonly #alive = new Map<Pingable, boolean>();
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | null = null;

  /** @param intervalMs ms between pings (a dead peer is dropped after one to two intervals). */
  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  start(): void {
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops pinging; idempotent. */
  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#alive.clear();
  }

  add(peer: Pingable): void {
    this.#alive.set(peer, true);
  }

  /** Records a pong (any sign of life). */
  pong(peer: Pingable): void {
    if (this.#alive.has(peer)) this.#alive.set(peer, true);
  }

  remove(peer: Pingable): void {
    this.#alive.delete(peer);
  }

  #tick(): void {
    for (const [peer, alive] of this.#alive) {
      if (!alive) {
        this.#alive.delete(peer);
        peer.terminate();
        continue;
      }
      this.#alive.set(peer, false);
      try {
        peer.ping();
      } catch {
        // A socket that cannot be pinged is not usable either.
        this.#alive.delete(peer);
        peer.terminate();
      }
    }
  }
}
