/**
 * RunOutput: what `slotflow run --out <dir>` writes: each final job state (`jobs/<jobId>.json`, written as the job
 * ends, so the CLI holds no finished job) and the event log (`events.jsonl`). A write that fails is reported and the
 * others go on: one unwritable file must not cost the rest of the results. Without `--out`, it writes nothing.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobEvent, JobState } from 'slotflow';
import { jobFileName } from '../persistence/jobFileName.js';
import { CliError, messageOf } from './CliError.js';
import { plural } from './plural.js';
import { printable } from './terminalText.js';
import { toJson } from './toJson.js';

export interface RunOutput {
  /** Appends one event to the event log. */
  logEvent(event: JobEvent): void;
  /** Starts writing one final job state; `close()` waits for it. */
  writeJob(state: JobState): void;
  /** Waits for the job states being written and flushes the event log. */
  close(): Promise<void>;
  /** Says what was written (after `close()`); true when anything could not be. */
  report(): boolean;
}

/** Opens `--out` (creating its `jobs` folder): a CliError when it cannot be created. */
export function openRunOutput(out: string | undefined): RunOutput {
  const { stderr } = process;
  let events: WriteStream | undefined;
  let eventCount = 0;
  const written = { jobs: 0, failed: 0, eventLogFailed: false };
  const writing = new Set<Promise<void>>();
  if (out !== undefined) {
    try {
      mkdirSync(join(out, 'jobs'), { recursive: true });
    } catch (error) {
      throw new CliError(`--out: cannot create directory '${join(out, 'jobs')}': ${messageOf(error)}`, 1, { cause: error });
    }
    events = createWriteStream(join(out, 'events.jsonl'));
    events.once('error', (error) => {
      stderr.write(`slotflow: cannot write ${join(out, 'events.jsonl')}: ${error.message}\n`);
      written.eventLogFailed = true;
      events = undefined;
    });
  }
  return {
    logEvent(event) {
      if (!events) return;
      events.write(`${toJson(event)}\n`);
      eventCount++;
    },
    writeJob(state) {
      if (out === undefined) return;
      const write: Promise<void> = writeJob(join(out, 'jobs', `${jobFileName(state.jobId)}.json`), state).then((ok) => {
        written[ok ? 'jobs' : 'failed']++;
        writing.delete(write);
      });
      writing.add(write);
    },
    async close() {
      await Promise.all(writing);
      const log = events;
      if (log)
        await new Promise<void>((resolve) => {
          log.end((error?: Error | null) => {
            // An error while flushing also reaches the 'error' listener, which reports it.
            if (error) written.eventLogFailed = true;
            resolve();
          });
        });
    },
    report: () => reportWritten(out, written, eventCount),
  };
}

/** What `--out` holds now, and what could not be written; true when anything could not be. */
function reportWritten(out: string | undefined, written: { jobs: number; failed: number; eventLogFailed: boolean }, eventCount: number): boolean {
  const { eventLogFailed } = written;
  const writeFailed = written.failed > 0 || eventLogFailed;
  if (out !== undefined) {
    const log = eventLogFailed ? '' : ` and ${eventCount} events to ${join(out, 'events.jsonl')}`;
    process.stdout.write(`\nWrote ${plural(written.jobs, 'job state')} to ${join(out, 'jobs')}${log}\n`);
    if (writeFailed) {
      const what = [written.failed > 0 ? plural(written.failed, 'job state') : '', eventLogFailed ? 'the event log' : ''].filter(Boolean).join(' and ');
      process.stderr.write(`slotflow: ${what} could not be written (see above)\n`);
    }
  }
  return writeFailed;
}

/** Writes one final job state: true once written; a failure is reported, not thrown (the other results still get written). */
async function writeJob(path: string, state: JobState): Promise<boolean> {
  try {
    await writeFile(path, `${toJson(state, 2)}\n`);
    return true;
  } catch (error) {
    process.stderr.write(`slotflow: cannot write ${path}: ${printable(messageOf(error))}\n`);
    return false;
  }
}
