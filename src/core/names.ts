/**
 * Validation of identifiers with Zaqar's texts: queue names, project ids, Client-IDs.
 */
import { errors } from './errors.js';
import { MAX_PROJECT_ID_LENGTH, MAX_QUEUE_NAME_LENGTH, QUEUE_NAME_PATTERN } from './limits.js';

/** Zaqar's texts for a bad queue name or project (the WebSocket `exception` texts, §2.2). */
export const QUEUE_NAME_TEXTS = {
  pattern: 'Queue names may only contain ASCII letters, digits, underscores, and dashes.',
  length: 'Queue names may not be more than 64 characters long.',
  project: 'Project ids may not be more than 256 characters long.',
} as const;

/** Returns the Zaqar text explaining why the name/project is invalid, or null when valid. */
export function queueNameProblem(queue: string, project: string): string | null {
  if (project.length > MAX_PROJECT_ID_LENGTH) return QUEUE_NAME_TEXTS.project;
  if (queue.length > MAX_QUEUE_NAME_LENGTH) return QUEUE_NAME_TEXTS.length;
  if (!QUEUE_NAME_PATTERN.test(queue)) return QUEUE_NAME_TEXTS.pattern;
  return null;
}

/** Throws `ZQR_ERR_INVALID_QUEUE_NAME` (400) when the queue name or project is invalid. */
export function assertQueueName(queue: string, project: string): void {
  const problem = queueNameProblem(queue, project);
  if (problem !== null) throw errors.invalidQueueName(problem);
}

const HEX32 = /^[0-9a-f]{32}$/;
/** The canonical spelling itself, which nearly every client sends: returned as is. */
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Canonical form of a Client-ID as Python's `uuid.UUID()` reads it (reference §2.1): an
 * optional `urn:`/`uuid:` prefix, optional braces, hyphens anywhere, 32 hex digits. Returns
 * the lower-case dashed form, or null when it is not a UUID. Dashed and dash-less spellings
 * of one UUID are the same client.
 */
export function canonicalClientId(raw: string): string | null {
  if (CANONICAL.test(raw)) return raw;
  let s = raw.trim().toLowerCase();
  if (s.startsWith('urn:')) s = s.slice(4);
  if (s.startsWith('uuid:')) s = s.slice(5);
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  s = s.replaceAll('-', '');
  if (!HEX32.test(s)) return null;
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
