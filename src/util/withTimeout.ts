/**
 * withTimeout: bounds a promise by a real-time wait, so a call that never settles (a hung store) cannot hang its
 * callers. The timer is cleared as soon as the promise settles; the late result, if any, is ignored.
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  if (timeoutMs === Number.POSITIVE_INFINITY) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(onTimeout());
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes the call's own rejection on unchanged
        reject(error);
      },
    );
  });
}
