import { describe, expectTypeOf, it } from 'vitest';
import { createMemoryStore, createRuntime, type CheckpointError, type Runtime, type RuntimeOptions } from 'slotflow';

describe('runtime option types', () => {
  it('storeTimeoutMs is a number, onCheckpointError and migrateSnapshot are functions, unknown keys do not compile', () => {
    expectTypeOf<RuntimeOptions['storeTimeoutMs']>().toEqualTypeOf<number | undefined>();
    createRuntime({ store: createMemoryStore(), storeTimeoutMs: 5_000, onCheckpointError: (error: CheckpointError) => error.reason });
    // @ts-expect-error -- a typo is not an option
    createRuntime({ concurency: 4 });
    // @ts-expect-error -- a number is not a handler
    createRuntime({ onCheckpointError: 1 });
    // @ts-expect-error -- a string is not a migration
    createRuntime({ migrateSnapshot: 'x' });
    // @ts-expect-error -- the memory store takes no options
    createMemoryStore({ size: 1 });
  });

  it('unregister takes a flow id and says whether a flow was forgotten', () => {
    expectTypeOf<Runtime['unregister']>().toEqualTypeOf<(flowId: string) => boolean>();
    expectTypeOf<CheckpointError['reason']>().toEqualTypeOf<'failed' | 'timeout' | 'unserializable'>();
  });
});
