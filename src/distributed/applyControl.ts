/**
 * applyControl: one control message applied to the worker's local job, with the reply the producer's call settles
 * with. A message that fails (a post to an unknown slot, a pause of a finished job) is not dropped: its error goes
 * back to the caller as data, and into the job's event stream as a `job.warning` (code `'control.failed'`) for
 * whoever sent it without waiting.
 */
import { isFinalStatus, JobFinishedError, type Job } from 'slotflow';
import { errorData, type ControlMessage, type ControlReply, type WireEvent } from './wire.js';

export function applyControl(job: Job, text: string): { reply: ControlReply | undefined; warning: WireEvent | undefined } {
  let message: ControlMessage;
  try {
    message = JSON.parse(text) as ControlMessage;
  } catch (error) {
    return { reply: undefined, warning: warning(job, `A control message is not JSON (${(error as Error).message}); it was skipped.`) };
  }
  try {
    if (message.op === 'post') job.post(message.routineId, message.slot, message.payload);
    else if (message.op === 'cancel') job.cancel(message.reason);
    else if (message.op === 'complete') job.complete();
    else {
      // Locally a pause or resume of a finished job does nothing; a remote caller cannot see that it finished, so
      // it is told (a cancel of a finished job stays a no-op: the job is stopped either way).
      if (isFinalStatus(job.status)) throw new JobFinishedError(job.id, job.status);
      if (message.op === 'pause') job.pause();
      else job.resume();
    }
    return { reply: { id: message.id }, warning: undefined };
  } catch (error) {
    const data = errorData(error);
    return { reply: { id: message.id, error: data }, warning: warning(job, `The control message '${message.op}' (${message.id}) failed: ${data.name}: ${data.message}`) };
  }
}

function warning(job: Job, message: string): WireEvent {
  return { type: 'job.warning', jobId: job.id, flowId: job.flowId, at: Date.now(), code: 'control.failed', message };
}
