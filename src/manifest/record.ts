/**
 * record: a manifest value read as a mapping of fields, so checks can walk a document the schema may reject.
 */

/** A plain object as it is; anything else (an array, a string, `null`) as no fields at all. */
export function record(value: unknown): Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
