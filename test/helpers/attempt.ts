/** Runs `mutate` and gives back the name of what it threw ('none' when it did not throw): for mutation attempts. */
export function attempt(mutate: () => void): string {
  try {
    mutate();
    return 'none';
  } catch (error) {
    return error instanceof Error ? error.constructor.name : typeof error;
  }
}
