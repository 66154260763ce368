/**
 * slotflow's private immer, with auto-freeze on: what `run` reads as `state` and `shared` is immutable (a mutation
 * outside `setState`/`setShared` throws a TypeError). A private instance, so the host application's own immer
 * settings (`setAutoFreeze`) are neither used nor changed.
 */
import { Immer } from 'immer';

const immer = new Immer({ autoFreeze: true });

export function produce<T>(base: T, recipe: (draft: unknown) => unknown): T {
  return immer.produce<T>(base, recipe as never);
}
