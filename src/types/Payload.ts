/**
 * Payload: what a slot receives and an event carries. A neutral home (it imports nothing), so the public job types
 * can name it without importing the routine module.
 */

/** A payload: a plain object, the fields of the emitting event. */
export type Payload = Readonly<Record<string, unknown>>;
