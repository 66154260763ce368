export { asRoutine, type AsRoutineOptions, type SubflowRoutine } from './asRoutine.js';
export { DEFAULT_MAX_SUBFLOW_DEPTH } from './subflowDepth.js';
export { subflowInfo, type SubflowInfo } from './subflowInfo.js';
