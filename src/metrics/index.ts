export { JobMeter, MetricsCollector, type MeteredActivation, type MeteredJob, type MeteredRoutine } from './MetricsCollector.js';
export type { ActivationTotals, DurationStats, FlowMetrics, JobCounts, JobMetrics, MetricsOptions, RoutineMetrics, RuntimeMetrics } from './RuntimeMetrics.js';
