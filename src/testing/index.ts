/**
 * slotflow/testing: test your flows without real time or I/O. A test runtime is a real runtime with a hand-driven
 * clock, routine mocks and failure injection, and a record of which routines ran in which job.
 */
export { createTestRuntime, TestRuntime, type TestRuntimeOptions } from './createTestRuntime.js';
export { TestClock, type TestClockOptions } from './TestClock.js';
export type { FailOptions, LooseRoutine, MockImpl, MockOptions } from './RoutineDoubles.js';
