import { describe, expectTypeOf, it } from 'vitest';
import { createFlow, createRuntime, defineRoutine, type Isolation, type RoutineDefinition, type ThreadResourceLimits, type ThreadsOptions } from 'slotflow';

const base = { name: 'r', slots: ['input'], run() {} } as const;

describe('isolation types', () => {
  it('takes inline or thread, a module string and typed resource limits', () => {
    const routine = defineRoutine({ ...base, isolation: 'thread', module: import.meta.url, resourceLimits: { maxOldGenerationSizeMb: 64, stackSizeMb: 4 } });
    expectTypeOf(routine.isolation).toEqualTypeOf<Isolation>();
    expectTypeOf(routine.module).toEqualTypeOf<string | undefined>();
    expectTypeOf(routine.resourceLimits).toEqualTypeOf<ThreadResourceLimits | undefined>();
    expectTypeOf<RoutineDefinition['isolation']>().toEqualTypeOf<'inline' | 'thread'>();

    // @ts-expect-error -- only 'inline' or 'thread'
    defineRoutine({ ...base, isolation: 'process' });
    // @ts-expect-error -- the module is a URL or path string
    defineRoutine({ ...base, isolation: 'thread', module: new URL(import.meta.url) });
    // @ts-expect-error -- an unknown limit
    defineRoutine({ ...base, isolation: 'thread', module: import.meta.url, resourceLimits: { heapMb: 64 } });
    // @ts-expect-error -- limits are numbers of MB
    defineRoutine({ ...base, isolation: 'thread', module: import.meta.url, resourceLimits: { maxOldGenerationSizeMb: '64' } });
  });

  it('flow.add overrides isolation and limits per instance', () => {
    const routine = defineRoutine(base);
    createFlow('f').add('a', routine, { isolation: 'inline', resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    // @ts-expect-error -- only 'inline' or 'thread'
    createFlow('f').add('a', routine, { isolation: 'worker' });
  });

  it('createRuntime takes threads options', () => {
    expectTypeOf<ThreadsOptions>().toEqualTypeOf<{ readonly max?: number; readonly idleTimeoutMs?: number; readonly abortGraceMs?: number }>();
    createRuntime({ threads: { max: 2, idleTimeoutMs: 1_000 } });
    // @ts-expect-error -- max is a number
    createRuntime({ threads: { max: '2' } });
  });
});
