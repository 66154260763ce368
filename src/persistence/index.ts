export { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, type HistorySnapshot, type JobSnapshot, type OverrideSnapshot, type RoutineMachineState, type RoutineSnapshot, type SerializedError } from './JobSnapshot.js';
export type { CheckpointStore } from './CheckpointStore.js';
export { Checkpointer } from './Checkpointer.js';
export { parseSnapshot } from './parseSnapshot.js';
export { createMemoryStore, type MemoryStore } from './memoryStore.js';
export { createFileStore, type FileStore, type FileStoreOptions } from './fileStore.js';
