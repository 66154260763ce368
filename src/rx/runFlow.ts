/**
 * runFlow: an RxJS operator that runs one job per source value.
 */
import { mergeMap, Observable, tap, type OperatorFunction } from 'rxjs';
import { InvalidOptionError, type ExecOptions, type Job, type JobState, type Payload, type Runtime } from 'slotflow';
import { assertKnownKeys } from '../util/assertSubpathKeys.js';
import { assertFunction, assertLimit, assertRuntime } from './assertArgument.js';

/** A registered flow's id, or a flow (registered on first use), as `runtime.exec` takes. */
export type FlowRef = Parameters<Runtime['exec']>[0];

/** Options of `runFlow`. */
export interface RunFlowOptions<TValue> {
  /**
   * Jobs of this operator unfinished at once (queued ones included); further source values wait, held by the
   * operator, until one ends. @default Infinity (the runtime's `maxJobs` and `concurrency` still apply)
   */
  readonly concurrency?: number;
  /** The params of the job run for a value (the entry slot's payload). @default the value itself */
  readonly params?: (value: TValue, index: number) => Payload | undefined;
  /** The id of the job run for a value. @default a UUID v7 */
  readonly jobId?: (value: TValue, index: number) => string;
  /** Bounds each job: past it the job fails with `JobTimeoutError`. @default none */
  readonly timeoutMs?: number;
}

/** Why a job of `runFlow` was cancelled when its subscription ended without a source error. */
const UNSUBSCRIBED = 'runFlow was unsubscribed';

/**
 * Runs one job of `flow` per source value and emits each job's final `JobState`, in completion order, whatever
 * its status (as `job.wait()` resolves): pipe `throwIfFailed()` to turn a failed or cancelled job into an error.
 * At most `concurrency` of its jobs are unfinished at once. Unsubscribing cancels the jobs it started and has
 * not seen end; an error of the source cancels them (the error is the cancel reason) and is passed on.
 * @example
 * urls$.pipe(
 *   runFlow(runtime, 'fetch_flow', { concurrency: 4, params: (url) => ({ url }) }),
 * ).subscribe((state) => console.log(state.jobId, state.status));
 */
// `object`, not `Payload`: values typed by an interface (which has no index signature) are params too.
export function runFlow<TValue extends object>(runtime: Runtime, flow: FlowRef, options?: RunFlowOptions<TValue> & { readonly params?: undefined }): OperatorFunction<TValue, JobState>;
export function runFlow<TValue>(
  runtime: Runtime,
  flow: FlowRef,
  options: RunFlowOptions<TValue> & { readonly params: (value: TValue, index: number) => Payload | undefined },
): OperatorFunction<TValue, JobState>;
export function runFlow<TValue>(runtime: Runtime, flow: FlowRef, options: RunFlowOptions<TValue> = {}): OperatorFunction<TValue, JobState> {
  assertRuntime('runFlow(runtime)', runtime);
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- JavaScript callers are not type-checked
  if (typeof flow !== 'string' && (typeof flow !== 'object' || flow === null)) throw new InvalidOptionError('runFlow(flow)', 'a flow id or a flow from createFlow()', flow);
  assertKnownKeys('runFlow(runtime, flow, options)', options, ['concurrency', 'params', 'jobId', 'timeoutMs']);
  const { params, jobId, timeoutMs } = options;
  const concurrency = options.concurrency ?? Number.POSITIVE_INFINITY;
  assertLimit('runFlow({ concurrency })', concurrency);
  assertFunction('runFlow({ params })', params);
  assertFunction('runFlow({ jobId })', jobId);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 0))
    throw new InvalidOptionError('runFlow({ timeoutMs })', 'a finite number of milliseconds from 0 and up', timeoutMs);

  const execOptions = (value: TValue, index: number): ExecOptions => {
    const jobParams = params ? params(value, index) : (value as Payload);
    return {
      ...(jobParams === undefined ? {} : { params: jobParams }),
      ...(jobId ? { jobId: jobId(value, index) } : {}),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    };
  };

  return (source) =>
    new Observable<JobState>((subscriber) => {
      let reason: unknown = UNSUBSCRIBED;
      const runJob = (value: TValue, index: number) =>
        new Observable<JobState>((inner) => {
          let job: Job;
          try {
            job = runtime.exec(flow, execOptions(value, index));
          } catch (error) {
            // Unknown flow, bad params, duplicate id: the error ends the stream and is why the other jobs are cancelled.
            reason = error;
            throw error;
          }
          let ended = false;
          void job.wait().then((state) => {
            ended = true;
            inner.next(state);
            inner.complete();
          });
          return () => {
            if (!ended) job.cancel(reason);
          };
        });
      return source
        .pipe(
          tap({
            error: (error: unknown) => {
              reason = error;
            },
          }),
          mergeMap(runJob, concurrency),
        )
        .subscribe(subscriber);
    });
}
