import { describe, expect, it } from 'vitest';
import { defineRoutine, InvalidOptionError, isSlotflowError } from 'slotflow';
import { createRoutineRegistry, DuplicateRoutineError, isDuplicateRoutineError } from 'slotflow/manifest';
import { collector, fetcher } from './routines.js';

describe('createRoutineRegistry', () => {
  it('registers definitions by name, in order', () => {
    const registry = createRoutineRegistry().register(fetcher).register(collector);
    expect(registry.names()).toEqual(['fetcher', 'collector']);
    expect(registry.get('fetcher')).toBe(fetcher);
    expect(registry.has('collector')).toBe(true);
    expect(registry.has('ghost')).toBe(false);
    expect(registry.get('ghost')).toBeUndefined();
  });

  it('takes initial definitions', () => {
    expect(createRoutineRegistry([fetcher, collector]).names()).toEqual(['fetcher', 'collector']);
  });

  it('accepts the same definition twice (a module may re-export it)', () => {
    const registry = createRoutineRegistry([fetcher]).register(fetcher);
    expect(registry.names()).toEqual(['fetcher']);
  });

  it('rejects a different definition under a taken name with DuplicateRoutineError', () => {
    const impostor = defineRoutine({ name: 'fetcher', slots: ['x'], run() {} });
    const registry = createRoutineRegistry([fetcher]);
    let caught: unknown;
    try {
      registry.register(impostor);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DuplicateRoutineError);
    expect(isDuplicateRoutineError(caught)).toBe(true);
    expect(isSlotflowError(caught)).toBe(true);
    const error = caught as DuplicateRoutineError;
    expect(error).toMatchObject({ name: 'DuplicateRoutineError', code: 'DUPLICATE_ROUTINE', routineName: 'fetcher' });
    expect(error.message).toContain("'fetcher'");
    expect(registry.get('fetcher')).toBe(fetcher);
  });

  it('rejects what is not a routine definition', () => {
    expect(() => createRoutineRegistry().register({ name: 'x' } as never)).toThrow(InvalidOptionError);
  });
});
