/**
 * Turns ajv's errors for one body into one readable line: `<path> <rule>`.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';

/** Keywords that only say "a sub-schema failed"; their branch errors say why. */
const WRAPPER_KEYWORDS: ReadonlySet<string> = new Set(['if', 'anyOf', 'oneOf', 'allOf', '$ref', 'dependentSchemas']);

const ARTICLES: Readonly<Record<string, string>> = {
  object: 'an object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  null: 'null',
};

/** Keywords whose failure `x-message` rewords. */
const VOICED_KEYWORDS: ReadonlySet<string> = new Set(['anyOf', 'oneOf', 'not', 'pattern', 'format']);

/**
 * The `x-message` annotation of the schema object holding the failing keyword, when that
 * keyword is one `x-message` rewords.
 */
function customMessage(e: ErrorObject): string | undefined {
  if (!VOICED_KEYWORDS.has(e.keyword)) return undefined;
  const parent: unknown = e.parentSchema;
  if (typeof parent !== 'object' || parent === null) return undefined;
  const text: unknown = (parent as Record<string, unknown>)['x-message'];
  return typeof text === 'string' ? text : undefined;
}

function renderValue(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function param(e: ErrorObject, key: string): unknown {
  return (e.params as Record<string, unknown>)[key];
}

/** ajv's rule text, reworded where ajv's own is unhelpful (enum, type, const, …). */
function ruleText(e: ErrorObject): string {
  const custom = customMessage(e);
  if (custom !== undefined) return custom;
  switch (e.keyword) {
    case 'enum': {
      const allowed = param(e, 'allowedValues');
      return Array.isArray(allowed) ? `must be one of ${allowed.map(renderValue).join(', ')}` : 'must be one of the allowed values';
    }
    case 'const':
      return `must be ${JSON.stringify(param(e, 'allowedValue'))}`;
    case 'type': {
      const t = param(e, 'type');
      const types = Array.isArray(t) ? t : String(t).split(',');
      return `must be ${types.map((x) => ARTICLES[String(x)] ?? String(x)).join(' or ')}`;
    }
    case 'required':
      return `must have required property '${String(param(e, 'missingProperty'))}'`;
    case 'additionalProperties':
      return `must not have additional property '${String(param(e, 'additionalProperty'))}'`;
    case 'unevaluatedProperties':
      return `must not have unevaluated property '${String(param(e, 'unevaluatedProperty'))}'`;
    case 'minLength':
      return param(e, 'limit') === 1 ? 'must not be empty' : `must have at least ${String(param(e, 'limit'))} characters`;
    case 'format':
      return `must be a valid ${String(param(e, 'format'))}`;
    case 'false schema':
      return 'is not allowed';
    default:
      return (e.message ?? `must pass "${e.keyword}"`).replace(/\bNOT\b/g, 'not');
  }
}

function depth(e: ErrorObject): number {
  return e.instancePath === '' ? 0 : e.instancePath.split('/').length - 1;
}

/**
 * Picks the most useful error among those ajv reported for one body:
 * 1. a failing combinator (`anyOf`, `not`, …) that carries `x-message` speaks for all the
 *    branch errors under it (schema path prefix), which are dropped;
 * 2. pure wrappers (`if`, `anyOf`/`oneOf` without `x-message`, …) are dropped, since the
 *    errors of their branches are more specific;
 * 3. of what is left, the error at the deepest instance path wins; ties go to the first
 *    reported (ajv reports in schema order).
 * Falls back to the last error when everything was dropped.
 * Caveat: ajv gives errors under a `$ref` schema paths relative to the referenced schema, so
 * a voiced `anyOf` whose branches are `$ref`s does not hide their errors (rule 3 then picks).
 */
export function pickError(errs: readonly ErrorObject[]): ErrorObject | undefined {
  const voiced = errs.filter((e) => customMessage(e) !== undefined);
  const candidates = errs.filter((e) => {
    if (voiced.some((v) => v !== e && e.schemaPath.startsWith(`${v.schemaPath}/`))) return false;
    return !WRAPPER_KEYWORDS.has(e.keyword) || customMessage(e) !== undefined;
  });
  let best: ErrorObject | undefined;
  for (const e of candidates) {
    if (best === undefined || depth(e) > depth(best)) best = e;
  }
  return best ?? errs[errs.length - 1];
}

/**
 * Renders the chosen error as `<JSON pointer or "/"> <rule>`, e.g.
 * `/payload/status must be one of RUNNING, SUCCESS, FAILED` or
 * `/payload must have required property 'status'`.
 */
export function renderErrors(errs: readonly ErrorObject[] | null | undefined): string {
  const e = errs == null ? undefined : pickError(errs);
  if (e === undefined) return '/ is invalid';
  return `${e.instancePath === '' ? '/' : e.instancePath} ${ruleText(e)}`;
}
