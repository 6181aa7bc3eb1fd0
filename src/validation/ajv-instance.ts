/**
 * The one ajv instance of the service: JSON Schema draft 2020-12, formats from ajv-formats,
 * and our two annotation keywords.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/**
 * Annotation keywords our schemas may carry (ajv's strict mode rejects unknown keywords, so
 * operator schemas may use these but no other `x-*` keyword):
 * - `x-version`: the schema's version (semver string), listed nowhere but kept in the document;
 * - `x-message`: replaces ajv's text when the `pattern`, `format`, `anyOf`, `oneOf` or `not`
 *   of the schema object that carries it fails (errors of other keywords keep their own
 *   text), e.g. "must be a fully qualified, dotted workflow name". The branch errors under a
 *   voiced `anyOf`/`oneOf` are then not reported.
 */
export const ANNOTATION_KEYWORDS = ['x-version', 'x-message'] as const;

// ajv-formats is CommonJS with `exports.default = plugin`; under nodenext the default import
// is typed as the module object, so take its `default` (the same function at run time).
const addFormats = addFormatsModule.default;

/**
 * Creates the ajv instance. `allErrors: false` so validation stops at the first failing
 * keyword of each schema (fast, and the error renderer wants one error anyway); `verbose`
 * so each error carries its `parentSchema` (needed for `x-message`); `strictTypes` and
 * `strictTuples` off because operator schemas legitimately use `anyOf` branches without
 * `type`; `strictSchema` on so a typo'd keyword stops start-up instead of being ignored.
 */
export function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: false,
    verbose: true,
    strictSchema: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    // Schemas are compiled once at load; no need to keep their source code around.
    code: { source: false },
  });
  addFormats(ajv);
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword({ keyword, schemaType: 'string' });
  return ajv;
}
