/**
 * A threaded routine that a worker could not find is a flow problem, not a runtime surprise: thrown by register/exec
 * when it can be known at once, else failing the job before its first threaded activation.
 */
import { pathToFileURL } from 'node:url';
import { createFlow, createRuntime, defineRoutine, isFlowValidationError, isInvalidOptionError, isRoutineDefinitionError, type FlowValidationError } from 'slotflow';
import { describe, expect, it } from 'vitest';
import { useRuntimes } from '../helpers/runtimes.js';
import { counter, sink } from './fixtures/routines.js';

const runtime = useRuntimes();
const T = 30_000;
const fixture = new URL('./fixtures/routines.ts', import.meta.url).href;

function problemsOf(fn: () => unknown): FlowValidationError['problems'] {
  try {
    fn();
  } catch (error) {
    if (isFlowValidationError(error)) return error.problems;
    throw error;
  }
  throw new Error('expected a FlowValidationError');
}

describe('defineRoutine isolation options', () => {
  const base = { name: 'r', slots: ['input'], run() {} } as const;

  it('rejects an unknown isolation, a relative module and bad resource limits', () => {
    expect(() => defineRoutine({ ...base, isolation: 'process' as 'thread', module: fixture })).toThrow(/`isolation` to be 'inline' or 'thread', got 'process'/);
    expect(() => defineRoutine({ ...base, isolation: 'thread', module: './routines.ts' })).toThrow(/import\.meta\.url .* or an absolute path, got '\.\/routines\.ts'/);
    expect(() => defineRoutine({ ...base, isolation: 'thread', module: fixture, resourceLimits: { maxOldGenerationSizeMb: -1 } })).toThrow(/resourceLimits\.maxOldGenerationSizeMb` to be a positive number/);
    expect(() => defineRoutine({ ...base, isolation: 'thread', module: fixture, resourceLimits: { heapMb: 1 } as never })).toThrow(/unknown key `resourceLimits\.heapMb`/);
    try {
      defineRoutine({ ...base, isolation: 'fork' as 'thread' });
    } catch (error) {
      expect(isRoutineDefinitionError(error)).toBe(true);
    }
  });

  it('takes an absolute path as module and keeps a file URL', () => {
    const path = new URL(fixture).pathname;
    const routine = defineRoutine({ ...base, isolation: 'thread', module: path });
    expect(routine.module).toBe(pathToFileURL(path).href);
    expect(routine.isolation).toBe('thread');
    expect(defineRoutine(base).isolation).toBe('inline');
  });
});

describe('threaded routine validation', () => {
  it('a threaded routine without module is a flow problem at register', () => {
    const noModule = defineRoutine({ name: 'loose', slots: ['input'], isolation: 'thread', run() {} });
    const problems = problemsOf(() => createRuntime().register(createFlow('no-module').add('x', noModule).entry('x', 'input')));
    expect(problems).toEqual([{ path: 'routines.x.module', message: expect.stringContaining("definition 'loose') runs in a thread but its definition has no `module`") as string }]);
  });

  it('flow.add may make an inline routine threaded: without a module that is a flow problem too', () => {
    const problems = problemsOf(() => createFlow('override').add('s', sink, { isolation: 'thread' }).entry('s', 'input').compile());
    expect(problems[0]?.path).toBe('routines.s.module');
  });

  it('a module file that does not exist is a flow problem at exec', () => {
    const ghost = defineRoutine({ name: 'ghost', slots: ['input'], isolation: 'thread', module: new URL('./fixtures/nowhere.ts', import.meta.url).href, run() {} });
    const problems = problemsOf(() => createRuntime().exec(createFlow('ghost-file').add('g', ghost).entry('g', 'input')));
    expect(problems[0]?.path).toBe('routines.g.module');
    expect(problems[0]?.message).toMatch(/nowhere\.ts does not exist/);
  });

  it('a module that does not export a routine of that name fails the job with a FlowValidationError before it runs', async () => {
    const rt = runtime();
    // Its module is the fixtures file, which exports no routine named 'unlisted'.
    const unlisted = defineRoutine({ name: 'unlisted', slots: ['input'], events: { out: ['x'] }, isolation: 'thread', module: fixture, run() {} });
    const state = await rt.exec(createFlow('unlisted').add('u', unlisted).entry('u', 'input'), { params: {} }).wait();
    expect(state.status).toBe('failed');
    expect(isFlowValidationError(state.error)).toBe(true);
    expect((state.error as FlowValidationError).problems[0]?.path).toBe('routines.u.module');
    expect(state.error?.message).toContain("exports no routine definition named 'unlisted'");
  }, T);

  it('rejects unknown and invalid threads options', () => {
    expect(() => createRuntime({ threads: { maxx: 2 } as never })).toThrow(/threads\.maxx.*did you mean 'max'/s);
    try {
      createRuntime({ threads: { max: 0 } });
      expect.unreachable();
    } catch (error) {
      expect(isInvalidOptionError(error)).toBe(true);
      expect((error as Error).message).toContain('threads.max');
    }
    expect(() => createRuntime({ threads: { idleTimeoutMs: -1 } })).toThrow(/threads\.idleTimeoutMs/);
    expect(createRuntime({ threads: { max: 2, idleTimeoutMs: 1000, abortGraceMs: 0 } })).toBeDefined();
  });

  it('an instance override to inline runs a threaded definition on the main thread', async () => {
    const rt = runtime();
    const state = await rt.exec(createFlow('inline-override').add('c', counter, { isolation: 'inline' }).entry('c', 'input'), { params: { count: 2, stepMs: 0 } }).wait();
    expect(state.status).toBe('completed');
    expect(state.outputs['c.tick']).toEqual([{ n: 0 }, { n: 1 }]);
  });
});
