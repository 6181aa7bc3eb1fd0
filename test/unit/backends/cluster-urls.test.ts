/** A cluster's URL list (RABBITMQ_URL with commas), its redaction, and replicated streams. */
import { describe, expect, it } from 'vitest';
import { splitAmqpUrls as splitUrls } from '../../../src/lib/amqp-urls.js';
import { streamArguments } from '../../../src/backends/rabbitmq/topology.js';
import { parseConfig } from '../../../src/config/index.js';
import { redactUrl } from '../../../src/observability/redact.js';

const LIST = 'amqp://u:s3cret@rmq-0:5672/vh, amqp://u:s3cret@rmq-1:5672/vh,amqps://u:s3cret@rmq-2:5671/vh';

describe('a cluster of RabbitMQ nodes', () => {
  it('splits the URL list, redacts every password, and accepts it in the config', () => {
    expect(splitUrls(LIST)).toEqual(['amqp://u:s3cret@rmq-0:5672/vh', 'amqp://u:s3cret@rmq-1:5672/vh', 'amqps://u:s3cret@rmq-2:5671/vh']);
    expect(splitUrls('amqp://one:5672')).toEqual(['amqp://one:5672']);
    expect(redactUrl(LIST)).not.toContain('s3cret');
    expect(redactUrl(LIST).split(',')).toHaveLength(3);
    const config = parseConfig({ backend: { type: 'rabbitmq', url: LIST.replaceAll(', ', ','), streamClusterSize: 3 } });
    expect(config.backend).toMatchObject({ type: 'rabbitmq', streamClusterSize: 3 });
    expect(() => parseConfig({ backend: { type: 'rabbitmq', url: 'amqp://a:5672,http://b' } })).toThrow(/backend/);
  });

  it('declares replicated streams only when asked', () => {
    const base = { retentionSeconds: 100, catalogRetentionSeconds: null, snapshotRetentionBytes: 1000, segmentBytes: 500 };
    expect(streamArguments(base, 'queue')).not.toHaveProperty('x-initial-cluster-size');
    expect(streamArguments({ ...base, clusterSize: 3 }, 'queue')).toMatchObject({ 'x-initial-cluster-size': 3 });
    expect(streamArguments({ ...base, clusterSize: 3 }, 'snapshots')).toMatchObject({ 'x-initial-cluster-size': 3 });
  });
});
