export { createRuntime, Runtime, type ExecOptions, type RuntimeOptions } from './createRuntime.js';
