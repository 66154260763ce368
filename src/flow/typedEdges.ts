/**
 * Typed edges at the flow's boundary: what `exec(flow, { params })` must deliver to the entry slot, and what
 * `state.outputs` holds per `'<routine>.<event>'`. Slots and events declared without a type (names only) stay
 * loose (`Payload`), as they are inside the flow.
 */
import type { AnyRoutine, Payload, SlotsOfRoutine } from '../routine/index.js';
import type { EventPayloadOf, EventRef, RoutineMap } from './types.js';

type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;

/**
 * The payload type of a routine's entry slot when it can be known from the types: its only slot (a record's key
 * order is not visible to the compiler, so a routine with several slots needs `entry(id, slot)` to be typed).
 */
export type OnlySlotPayload<R extends AnyRoutine> =
  SlotsOfRoutine<R> extends infer S ? ([keyof S] extends [never] ? Payload : true extends IsUnion<keyof S> ? Payload : S[keyof S]) : Payload;

/**
 * `'<routine>.<event>'` -> payload type, for every event of every routine of the flow. Every one, not only the
 * unconnected ones: a connected event's payloads land in `outputs` too when its edges deliver nowhere (a converged
 * or exhausted cycle).
 */
export type OutputsOf<R extends RoutineMap> = string extends keyof R ? Record<string, Payload> : { [K in EventRef<R>]: EventPayloadOf<R, K> };
