/**
 * What the backend reports besides up/down (style point 14: adapters report, the composition
 * root decides what to log and count). Delivered synchronously to `onDiagnostic` listeners.
 */
export type Diagnostic =
  | { readonly type: 'reconnect_scheduled'; readonly attempt: number; readonly delayMs: number; readonly cause: string }
  | { readonly type: 'connection_blocked'; readonly reason: string }
  | { readonly type: 'connection_unblocked' }
  /** A declaration was refused (406): the existing object is used as it is. */
  | { readonly type: 'declaration_mismatch'; readonly name: string; readonly cause: string }
  /** A tail (re)registration failed; it is retried while the connection is up. */
  | { readonly type: 'tail_error'; readonly stream: string; readonly cause: string }
  /** The broker cancelled a tail's consumer (its stream was deleted); it re-registers once the stream exists again. */
  | { readonly type: 'tail_cancelled'; readonly stream: string }
  /**
   * A cancelled tail found a different stream under the same name (deleted and created again
   * while it was away, `lastOffset` being the last record it had read of the old one): the
   * tail stopped and its owner starts over on the new log.
   */
  | { readonly type: 'stream_replaced'; readonly stream: string; readonly lastOffset: number }
  /** A stream record that is not an event (e.g. published by a third party) was skipped. */
  | { readonly type: 'record_skipped'; readonly stream: string; readonly offset: number | null; readonly reason: string }
  /** A tail handler threw; the tail goes on with the next record. */
  | { readonly type: 'handler_error'; readonly stream: string; readonly offset: number; readonly cause: string }
  /** The publisher channel closed under a write while the connection stayed up; the write was retried once. */
  | { readonly type: 'publish_retried'; readonly stream: string; readonly cause: string }
  /** A foreign message was dead-lettered by the backend itself (unparseable routing key, no handler error). */
  | { readonly type: 'ingress_dead_lettered'; readonly routingKey: string; readonly reason: string }
  /** A foreign-message handler threw or rejected; the message is requeued (quorum delivery limit applies). */
  | { readonly type: 'ingress_handler_error'; readonly routingKey: string; readonly cause: string }
  /** One step of `close()` failed; the others still ran. */
  | { readonly type: 'close_step_failed'; readonly step: string; readonly cause: string };

export type DiagnosticSink = (diagnostic: Diagnostic) => void;
