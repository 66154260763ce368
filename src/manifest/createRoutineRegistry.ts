/**
 * createRoutineRegistry: routine definitions by their `name`, which is what a manifest's `type` refers to.
 */
import { InvalidOptionError, isRoutineDefinition, type AnyRoutine } from 'slotflow';
import { DuplicateRoutineError } from './DuplicateRoutineError.js';

/** Routine definitions by name. */
export interface RoutineRegistry {
  /**
   * Registers a definition under its `name`; returns the registry. Registering the same definition again does
   * nothing; a different one under a taken name throws `DuplicateRoutineError`.
   */
  register(routine: AnyRoutine): this;
  get(name: string): AnyRoutine | undefined;
  has(name: string): boolean;
  /** The registered names, in registration order. */
  names(): string[];
}

/**
 * Creates a registry, optionally filled with `routines`.
 * @example
 * const routines = createRoutineRegistry().register(fetcher).register(collector);
 * const flow = loadFlow(yamlText, { routines });
 */
export function createRoutineRegistry(routines: Iterable<AnyRoutine> = []): RoutineRegistry {
  const byName = new Map<string, AnyRoutine>();
  const registry: RoutineRegistry = {
    register(routine) {
      if (!isRoutineDefinition(routine)) throw new InvalidOptionError('registry.register(routine)', 'a routine from defineRoutine()', routine);
      const existing = byName.get(routine.name);
      if (existing !== undefined && existing !== routine) throw new DuplicateRoutineError(routine.name);
      byName.set(routine.name, routine);
      return this;
    },
    get: (name) => byName.get(name),
    has: (name) => byName.has(name),
    names: () => [...byName.keys()],
  };
  for (const routine of routines) registry.register(routine);
  return registry;
}
