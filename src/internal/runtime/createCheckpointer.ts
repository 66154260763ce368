/**
 * createCheckpointer: the runtime's checkpointing, when it has a store. A failed save or delete is handed to
 * `onCheckpointError`, else reported as a process warning: never an unhandled rejection.
 */
import type { CheckpointError } from '../../errors/index.js';
import { Checkpointer } from '../../persistence/Checkpointer.js';
import type { StoreSettings } from './runtimeSettings.js';

const WARNING = 'SLOTFLOW_CHECKPOINT';

/** The runtime's `Checkpointer`, or `undefined` without a store. */
export function createCheckpointer(settings: StoreSettings): Checkpointer | undefined {
  const { store, onCheckpointError } = settings;
  if (store === undefined) return undefined;
  return new Checkpointer(store, {
    retainFinished: settings.retainFinished,
    timeoutMs: settings.storeTimeoutMs,
    report: (error) => {
      reportCheckpointError(error, onCheckpointError);
    },
  });
}

function reportCheckpointError(error: CheckpointError, handler: ((error: CheckpointError) => void) | undefined): void {
  if (handler === undefined) {
    process.emitWarning(error.message, { code: WARNING });
    return;
  }
  try {
    handler(error);
  } catch (thrown) {
    // A throwing handler must not become an unhandled rejection (the process would exit) nor leave
    // job.checkpoint() unsettled: it is reported and the job goes on.
    const detail = thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    process.emitWarning(`onCheckpointError threw while handling "${error.message}": ${message}; the job goes on`, { code: WARNING, detail });
  }
}
