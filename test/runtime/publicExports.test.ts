/**
 * What `slotflow` exports is its API: the package's own helpers (used by its subpaths, imported there from their
 * source files) are not part of it.
 */
import * as slotflow from 'slotflow';
import { compileExpression } from 'slotflow/manifest';
import { describe, expect, it } from 'vitest';

describe('the slotflow entry', () => {
  it('exports no internal helper', () => {
    for (const name of ['setExpressionSource', 'describeValue', 'compileFlow', 'JobRunner', 'Checkpointer', 'MetricsCollector', 'EventBus', 'Scheduler'])
      expect(Object.keys(slotflow)).not.toContain(name);
  });

  it('reads back what slotflow/manifest compiled, without exporting how it was recorded', () => {
    const until = compileExpression('n >= 10');
    expect(slotflow.expressionSourceOf(until)).toBe('n >= 10');
    expect(slotflow.expressionSourceOf(() => true)).toBeUndefined();
    expect(slotflow.expressionSourceOf('n >= 10')).toBeUndefined();
  });
});
