/**
 * Payload checks on emit and on delivery: a plain object, the declared fields present, and the schema (if any)
 * satisfied per the runtime's validation mode.
 */
import { isStandardSchema, isTypeMarker, type StandardSchemaV1, type TypeMarker } from '../routine/index.js';

/** Problems with `payload` against `spec` (empty when fine). Schema problems only when `schemas` is true. */
export function payloadIssues(payload: unknown, spec: readonly string[] | TypeMarker<object> | StandardSchemaV1 | undefined, schemas: boolean): string[] {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return [`expected a plain object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`];
  if (spec === undefined) return [];
  const fields = Array.isArray(spec) ? (spec as readonly string[]) : isTypeMarker(spec) ? spec.fields : [];
  const missing = fields.filter((f) => !(f in payload));
  if (missing.length) return [`missing field${missing.length > 1 ? 's' : ''} ${missing.map((f) => `'${f}'`).join(', ')}`];
  if (schemas && isStandardSchema(spec)) {
    const result = spec['~standard'].validate(payload);
    if (result instanceof Promise) return ['its schema validates asynchronously; slotflow needs synchronous schemas'];
    if (result.issues) return result.issues.map((i) => (i.path?.length ? `${i.path.map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.')}: ` : '') + i.message);
  }
  return [];
}
