import { describe, expectTypeOf, it } from 'vitest';
import { createRuntime, type Breakpoint, type Job, type JobEvent } from 'slotflow';
import { createServer, type MonitorServer, type ServerOptions } from 'slotflow/server';

describe('slotflow/server types', () => {
  it('createServer takes a runtime and known options, and resolves with the server', () => {
    const runtime = createRuntime();
    expectTypeOf(createServer(runtime, { port: 0, host: '127.0.0.1', token: 't' })).toEqualTypeOf<Promise<MonitorServer>>();
    expectTypeOf<MonitorServer['url']>().toBeString();
    expectTypeOf<MonitorServer['close']>().returns.toEqualTypeOf<Promise<void>>();
    // @ts-expect-error -- the port is a number
    void createServer(runtime, { port: '80' });
    // @ts-expect-error -- an unknown option
    void createServer(runtime, { hots: 'localhost' });
    expectTypeOf<ServerOptions>().toHaveProperty('heartbeatMs');
  });

  it('breakpoints: exec option, setBreakpoints, step, the job.breakpoint event', () => {
    const runtime = createRuntime();
    const job = runtime.exec('flow', { breakpoints: [{ routine: 'b' }] });
    expectTypeOf(job.breakpoints).toEqualTypeOf<readonly Breakpoint[]>();
    expectTypeOf(job.step).returns.toBeVoid();
    expectTypeOf<Job['pausedAt']>().toEqualTypeOf<string | undefined>();
    // @ts-expect-error -- a breakpoint names its routine
    job.setBreakpoints([{ id: 'b' }]);
    type Hit = Extract<JobEvent, { type: 'job.breakpoint' }>;
    expectTypeOf<Hit['routineId']>().toBeString();
    expectTypeOf<Hit['consumed']>().toEqualTypeOf<Readonly<Record<string, readonly unknown[]>>>();
  });
});
