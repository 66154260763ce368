/**
 * ValidationMode: what a runtime does with a payload that fails its schema (`createRuntime({ validation })`):
 * `strict` fails the job, `warn` delivers it with a `job.warning`, `off` checks nothing.
 */

export type ValidationMode = 'strict' | 'warn' | 'off';
