/**
 * Payload checks on emit and on delivery: a plain object, the declared fields present, and the schema (if any)
 * satisfied per the runtime's validation mode.
 */
import { isStandardSchema, isTypeMarker, type StandardSchemaV1, type TypeMarker } from '../../routine/index.js';
import type { ValidationMode } from '../../types/ValidationMode.js';

const FINE = { issues: [] as string[], bySchema: false };

/**
 * Problems with `payload` against `spec` (none when fine). `bySchema`: they come from a schema (which `'warn'`
 * downgrades to a warning), not from a missing field. With `'off'` neither declared fields nor schemas are checked:
 * only the shape every payload has (a plain object, which routing, `until` and checkpoints read as a record).
 */
export function payloadIssues(
  payload: unknown,
  spec: readonly string[] | TypeMarker<object> | StandardSchemaV1 | undefined,
  mode: ValidationMode,
): { issues: string[]; bySchema: boolean } {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return { issues: [`expected a plain object, got ${payload === null ? 'null' : Array.isArray(payload) ? 'an array' : typeof payload}`], bySchema: false };
  if (spec === undefined || mode === 'off') return FINE;
  const fields = Array.isArray(spec) ? (spec as readonly string[]) : isTypeMarker(spec) ? spec.fields : [];
  // A loop, not filter(): this runs on every emit and delivery, and almost never finds anything.
  let missing: string[] | undefined;
  for (const field of fields) if (!(field in payload)) (missing ??= []).push(field);
  if (missing) return { issues: [`missing field${missing.length > 1 ? 's' : ''} ${missing.map((f) => `'${f}'`).join(', ')}`], bySchema: false };
  if (isStandardSchema(spec)) {
    const result = spec['~standard'].validate(payload);
    if (result instanceof Promise) return { issues: ['its schema validates asynchronously; slotflow needs synchronous schemas'], bySchema: false };
    if (result.issues)
      return { issues: result.issues.map((i) => (i.path?.length ? `${i.path.map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.')}: ` : '') + i.message), bySchema: true };
  }
  return FINE;
}
