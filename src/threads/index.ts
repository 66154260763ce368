export { ThreadPools, type ThreadsOptions } from './ThreadPools.js';
export { runInThread, type ThreadTarget } from './runInThread.js';
export { isolationProblems, threadedInstanceProblems, type Isolation, type ThreadResourceLimits } from './isolation.js';
