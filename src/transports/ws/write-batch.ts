/**
 * Frames bound for one socket within one synchronous run leave in one `writev`.
 *
 * Every `ws` frame is its own `writev` syscall (header + payload), and on loopback or a LAN
 * that syscall, with the TCP segment it sends, is most of a delivery's CPU. A fold applying a
 * record that carries several posts (group commit), or a post of several messages, fans out
 * several notifications one after another without yielding; each socket then gets several
 * frames in the same turn. The first frame of a turn is written at once (a lone notification
 * is never delayed); from the second on, the socket is corked, and it is uncorked in the
 * microtask that follows the turn, so the rest go out together.
 */

/** The socket under a WebSocket (a `net.Socket` or a TLS socket), as the batcher uses it. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** The same socket as a connection writes whole notification frames to it. */
export interface RawSocket extends Corkable {
  write(frame: Buffer): boolean;
}

/** One socket's place in the current turn. */
export class SocketBatch {
  /** The turn of the last frame written; equal to the batcher's turn from the second on. */
  turn = -1;
  corked = false;

  constructor(readonly socket: Corkable) {}
}

/** Shared by all connections of a server: counts turns and uncorks what was corked in one. */
export class WriteBatcher {
  #turn = 0;
  #scheduled = false;
  #corked: SocketBatch[] = [];
  readonly #flush = (): void => this.flush();

  /** Call before each notification frame written to `s`'s socket. */
  beforeWrite(s: SocketBatch): void {
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
    if (s.turn !== this.#turn) {
      s.turn = this.#turn;
      return;
    }
    if (s.corked) return;
    s.corked = true;
    s.socket.cork();
    this.#corked.push(s);
  }

  /** Ends the turn: every socket corked in it is uncorked (its frames leave in one write). */
  flush(): void {
    this.#scheduled = false;
    this.#turn += 1;
    const corked = this.#corked;
    if (corked.length === 0) return;
    this.#corked = [];
    for (const s of corked) {
      s.corked = false;
      try {
        s.socket.uncork();
      } catch {
        // A destroyed socket has nothing left to write.
      }
    }
  }
}
