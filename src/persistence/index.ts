export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type HistorySnapshot, type JobSnapshot, type RoutineMachineState, type RoutineSnapshot, type SerializedError } from './JobSnapshot.js';
export type { CheckpointStore } from './CheckpointStore.js';
