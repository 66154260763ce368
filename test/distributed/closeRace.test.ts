/**
 * Calls racing the producer's `close()`, against a real redis-server: a call that `close()` overtook rejects with
 * `RuntimeClosedError` (not ioredis's "Connection is closed"), and leaves nothing of its job behind; an `exec`
 * already sent when `close()` was called ends with its job queued, and a worker runs it.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeClosedError } from 'slotflow';
import { createDistributedRuntime, createWorker, type DistributedRuntime } from 'slotflow/distributed';
import { useDistributedTest } from './useDistributedTest.js';

const dist = useDistributedTest('race');
const { server, opened } = dist;

function producerOf(queue: string): DistributedRuntime {
  const producer = createDistributedRuntime({ connection: server.url, queue });
  opened.push(producer);
  return producer;
}

/** What `call` rejected with (`undefined` when it resolved), handled from the start (no unhandled rejection). */
function outcome(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function expectClosed(settled: Promise<unknown>, action: string): Promise<void> {
  const error = await settled;
  expect(error).toBeInstanceOf(RuntimeClosedError);
  expect(error).toMatchObject({ name: 'RuntimeClosedError', code: 'RUNTIME_CLOSED' });
  expect((error as Error).message).toContain(action);
}

/** A second producer's view of the queue: the jobs recorded. */
async function recorded(queue: string): Promise<string[]> {
  return (await producerOf(queue).listJobs()).map((j) => j.jobId);
}

describe('calls racing close()', () => {
  it('exec on a producer still connecting, then close in the same turn: RuntimeClosedError, nothing recorded', async () => {
    const queue = dist.nextQueue();
    const producer = createDistributedRuntime({ connection: server.url, queue });
    const exec = outcome(producer.exec('gate', { params: { text: 'x' }, jobId: 'racing' }));
    await producer.close();
    await expectClosed(exec, 'exec a job');
    expect(await recorded(queue)).toEqual([]);
  }, 30_000);

  it('exec on a ready producer, then close in the same turn: RuntimeClosedError, nothing recorded', async () => {
    const queue = dist.nextQueue();
    const producer = createDistributedRuntime({ connection: server.url, queue });
    await producer.ready();
    const execs = [1, 2, 3].map((n) => outcome(producer.exec('gate', { params: { text: String(n) } })));
    const closing = producer.close();
    for (const exec of execs) await expectClosed(exec, 'exec a job');
    await closing;
    expect(await recorded(queue)).toEqual([]);
  }, 30_000);

  it('an exec already sent when close is called resolves, and its job is queued and runs', async () => {
    const queue = dist.nextQueue();
    const producer = createDistributedRuntime({ connection: server.url, queue });
    await producer.ready();
    const exec = producer.exec('gate', { params: { text: 'sent' }, jobId: 'sent' });
    // Past the turn that sends the batch: its round trip is under way when close() comes.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await producer.close();
    const job = await exec;
    expect(job.id).toBe('sent');
    const worker = createWorker({ connection: server.url, queue, flows: dist.fixtures.flows, onError: () => undefined });
    opened.push(worker);
    await worker.ready();
    const again = await producerOf(queue).getJob('sent');
    const state = await again?.wait({ timeoutMs: 30_000 });
    expect(state?.status).toBe('completed');
    expect(state?.outputs['echo.said']).toEqual([{ text: 'sent' }]);
  }, 45_000);

  it('getJob and listJobs racing close, and every call after it, reject RuntimeClosedError', async () => {
    const queue = dist.nextQueue();
    const producer = createDistributedRuntime({ connection: server.url, queue });
    await producer.ready();
    const getJob = outcome(producer.getJob('any'));
    const listJobs = outcome(producer.listJobs());
    await producer.close();
    await expectClosed(getJob, 'get a job');
    await expectClosed(listJobs, 'list jobs');
    await expectClosed(outcome(producer.exec('gate')), 'exec a job');
    await expectClosed(outcome(producer.getJob('any')), 'get a job');
  }, 30_000);
});
