/** A scripted WebSocket for the SDK's unit tests: the test plays the server. */
import type { SocketLike } from '../../../clients/js/src/index.js';

export interface SentFrame {
  readonly action: string;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

export class FakeSocket implements SocketLike {
  static readonly all: FakeSocket[] = [];
  static last(): FakeSocket {
    const s = FakeSocket.all[FakeSocket.all.length - 1];
    if (s === undefined) throw new Error('no socket yet');
    return s;
  }
  static reset(): void {
    FakeSocket.all.length = 0;
  }

  readyState = 0;
  readonly sent: SentFrame[] = [];
  closedWith: { code: number | undefined; reason: string | undefined } | null = null;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { readonly data: unknown }) => void) | null = null;
  onclose: ((event: { readonly code: number; readonly reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as SentFrame);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // -- the server's side --
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  /** Answers the oldest unanswered request with `status` and `body`. */
  answer(status: number, body: unknown = {}): void {
    const req = this.sent[this.#answered++];
    if (req === undefined) throw new Error('no request to answer');
    this.onmessage?.({ data: JSON.stringify({ request: req, body, headers: { status } }) });
  }

  notify(queue: string, marker: string, body: unknown): void {
    this.onmessage?.({ data: JSON.stringify({ ttl: 3600, body, Message_Type: 'Notification', queue_name: queue, message_id: `id-${marker}`, marker }) });
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** The requests not answered yet. */
  unanswered(): SentFrame[] {
    return this.sent.slice(this.#answered);
  }

  #answered = 0;
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
