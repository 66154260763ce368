/**
 * JobRef: the job a span name is asked for. Its own file, as both instrument (its options) and RuntimeTrace read it.
 */

/** The job a span name is asked for. */
export interface JobRef {
  readonly jobId: string;
  readonly flowId: string;
}
