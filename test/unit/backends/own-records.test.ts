import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { LogEvent } from '../../../src/core/events.js';
import { OWN_RECORDS_MAX, OwnRecords, RID_HEADER } from '../../../src/backends/rabbitmq/own-records.js';

const event = (rid: string, at = 1): LogEvent => ({ type: 'barrier', rid, at });
const bytes = (e: LogEvent): Buffer => Buffer.from(JSON.stringify(e), 'utf8');
/** A delivery as amqplib gives it: the bytes in a new Buffer, the rid in the headers. */
function delivery(content: Buffer, rid: string | undefined): ConsumeMessage {
  return {
    content: Buffer.from(content),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 's', consumerTag: 'c' },
    properties: { headers: rid === undefined ? {} : { [RID_HEADER]: rid } },
  } as unknown as ConsumeMessage;
}

describe('OwnRecords', () => {
  it('gives back the written event for the same bytes under its rid, once', () => {
    const own = new OwnRecords();
    const e = event('r1');
    own.remember('r1', bytes(e), e);
    expect(own.take(delivery(bytes(e), 'r1'))).toBe(e);
    expect(own.take(delivery(bytes(e), 'r1'))).toBeUndefined();
    expect(own.size).toBe(0);
  });

  it('gives nothing for other bytes under the rid, or a delivery without the header', () => {
    const own = new OwnRecords();
    const e = event('r1');
    own.remember('r1', bytes(e), e);
    expect(own.take(delivery(bytes(event('r1', 2)), 'r1'))).toBeUndefined();
    expect(own.take(delivery(bytes(e), undefined))).toBeUndefined();
    expect(own.take(delivery(bytes(e), 'r2'))).toBeUndefined();
    expect(own.take(delivery(bytes(e), 'r1'))).toBe(e);
  });

  it('forgets a failed write only if it is still the one remembered under its rid', () => {
    const own = new OwnRecords();
    const a = event('r', 1);
    const b = event('r', 2);
    const aBytes = bytes(a);
    const bBytes = bytes(b);
    own.remember('r', aBytes, a);
    own.remember('r', bBytes, b);
    own.forget('r', aBytes);
    expect(own.take(delivery(bBytes, 'r'))).toBe(b);
    own.remember('r', aBytes, a);
    own.forget('r', aBytes);
    expect(own.size).toBe(0);
  });

  it('holds at most OWN_RECORDS_MAX writes, dropping the oldest', () => {
    const own = new OwnRecords();
    const events = Array.from({ length: OWN_RECORDS_MAX + 1 }, (_, i) => event(`r${i}`));
    for (const e of events) own.remember(e.rid, bytes(e), e);
    expect(own.size).toBe(OWN_RECORDS_MAX);
    expect(own.take(delivery(bytes(events[0] as LogEvent), 'r0'))).toBeUndefined();
    const last = events[OWN_RECORDS_MAX] as LogEvent;
    expect(own.take(delivery(bytes(last), last.rid))).toBe(last);
  });
});
