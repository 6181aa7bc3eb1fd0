/**
 * The error catalogue is the contract of every error the API returns: each code has one
 * status, and the README's "Error codes" table lists exactly the catalogue.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ZaqarError, errors } from '../../src/core/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const table = readme.slice(readme.indexOf('## Error codes'));
const documented = new Map(
  [...table.matchAll(/^\| `(ZQR_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1] ?? '', Number(m[2])]),
);

describe('error catalogue', () => {
  it('has 15 codes, each documented in the README with its status, and nothing else', () => {
    expect(Object.keys(ERROR_CODES)).toHaveLength(15);
    expect(new Map(Object.entries(ERROR_CODES))).toEqual(documented);
  });

  it('renders every factory with its catalogue status and both transports\' texts', () => {
    const made: ZaqarError[] = [
      errors.validation('x'),
      errors.invalidQueueName('x'),
      errors.queueNotFound('q', 'p'),
      errors.messageNotFound('m', 'q', 'p'),
      errors.messagesNotFound(['a', 'b'], 'q', 'p'),
      errors.claimNotFound('c', 'q', 'p'),
      errors.subscriptionNotFound('s', 'q'),
      errors.messageClaimed('m'),
      errors.claimInvalid('c', 'q', 'p'),
      errors.messageNotClaimed('m'),
      errors.conflict('x'),
      errors.brokerUnavailable('Down.'),
      errors.bodySchema('Message 1 is invalid: / must be object'),
    ];
    for (const e of made) {
      expect(e.status).toBe(ERROR_CODES[e.code]);
      expect(e.title.length).toBeGreaterThan(0);
      expect(e.wsException.length).toBeGreaterThan(0);
    }
    expect(errors.messagesNotFound(['a', 'b'], 'q', 'p').description).toBe(
      "No messages with IDs: ['a', 'b'] found in the queue q for project p.",
    );
    expect(errors.brokerUnavailable('Down.').description).toBe('Down. Please try again in a few seconds.');
  });
});
