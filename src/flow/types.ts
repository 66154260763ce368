/**
 * Compile-time references for the flow builder: `'routine.event'` and `'routine.slot'` unions built from the
 * routines added so far, so a typo in an id, event or slot does not compile.
 */
import type { AnyRoutine, EventsOfRoutine, SlotsOfRoutine } from '../routine/index.js';

export type RoutineMap = Record<string, AnyRoutine>;

/** Every `'<id>.<event>'` of the routines in `R`. */
export type EventRef<R extends RoutineMap> = { [K in keyof R & string]: `${K}.${keyof EventsOfRoutine<R[K]> & string}` }[keyof R & string];
/** Every `'<id>.<slot>'` of the routines in `R`. */
export type SlotRef<R extends RoutineMap> = { [K in keyof R & string]: `${K}.${keyof SlotsOfRoutine<R[K]> & string}` }[keyof R & string];

type Split<T extends string> = T extends `${infer A}.${infer B}` ? [A, B] : never;

/** The payload type of an event reference. */
export type EventPayloadOf<R extends RoutineMap, T extends string> = Split<T> extends [infer A extends keyof R, infer B extends string]
  ? EventsOfRoutine<R[A]>[B & keyof EventsOfRoutine<R[A]>]
  : never;
/** The payload type a slot reference accepts. */
export type SlotPayloadOf<R extends RoutineMap, T extends string> = Split<T> extends [infer A extends keyof R, infer B extends string]
  ? SlotsOfRoutine<R[A]>[B & keyof SlotsOfRoutine<R[A]>]
  : never;
