/**
 * Runtimes created by a test file, shut down (cancelling what still runs) after each test.
 */
import { afterEach } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from 'slotflow';

export function useRuntimes(): (options?: RuntimeOptions) => Runtime {
  const made: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((rt) => rt.shutdown()));
  });
  return (options = {}) => {
    const rt = createRuntime(options);
    made.push(rt);
    return rt;
  };
}
