/**
 * slotflow's private immer. Auto-freeze is off: freezing would reach objects the user still owns (their params,
 * their payloads), and the global `setAutoFreeze` would change the host application's immer. JobState is
 * readonly by type instead.
 */
import { Immer } from 'immer';

const immer = new Immer({ autoFreeze: false });

export function produce<T>(base: T, recipe: (draft: unknown) => unknown): T {
  return immer.produce<T>(base, recipe as never);
}
