/**
 * summary: the table `slotflow run` prints at the end, one row per routine (activations, errors, p50/p95 duration),
 * from `runtime.metrics()`.
 */
import type { FlowMetrics } from 'slotflow';

/** Fixed-width columns, the first left-aligned, the others right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

/** The per-routine table of one flow's metrics. */
export function routineTable(metrics: FlowMetrics | undefined, routineIds: readonly string[]): string {
  const rows = [['routine', 'activations', 'errors', 'p50 ms', 'p95 ms']];
  for (const id of routineIds) {
    const m = metrics?.routines[id];
    const timed = m !== undefined && m.durationMs.count > 0;
    rows.push([id, String(m?.activations ?? 0), String(m?.errors ?? 0), timed ? ms(m.durationMs.p50) : '-', timed ? ms(m.durationMs.p95) : '-']);
  }
  return table(rows);
}
