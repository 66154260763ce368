/**
 * The subflow behind a routine definition made by `asRoutine`: which flow it runs and how its slots and events map
 * onto that flow's. Validation, `toMermaid`, manifests and the runtime read it; other routines have none.
 */
import type { FlowDefinition } from '../flow/FlowDefinition.js';

/** Where a subflow routine's definition keeps its subflow. */
export const SUBFLOW = Symbol.for('slotflow.subflow');

/** A mapped reference into the child flow: `'<routine>.<slot or event>'`, split. */
export interface ChildRef {
  readonly routine: string;
  readonly name: string;
}

export interface Subflow {
  /** The child flow, compiled. */
  readonly flow: FlowDefinition;
  /** Parent slot -> child slot. */
  readonly slots: ReadonlyMap<string, ChildRef>;
  /** `'<child routine>.<child event>'` -> the parent events it is emitted as. */
  readonly events: ReadonlyMap<string, readonly string[]>;
}

/** The subflow of a routine definition made by `asRoutine`, else `undefined`. */
export function subflowOf(routine: unknown): Subflow | undefined {
  return typeof routine === 'object' && routine !== null ? ((routine as Record<symbol, Subflow | undefined>)[SUBFLOW] ?? undefined) : undefined;
}
