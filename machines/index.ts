/**
 * slotflow's XState machines, as pure definitions (paste them into Stately's editor to see them). Each calls a host
 * given as input (`RoutineHost`, `SupervisorHost`), which holds the data its guards read.
 */
export { routineMachine, type RoutineMachine, type RoutineHost, type RoutineMachineContext, type RoutineMachineEvent, type RoutineMachineInput, type Inflight, type FailureDecision, type RoutineRestoreEvent, type RoutineRestoreTarget } from './routineMachine.js';
export { supervisorMachine, edgeOutcome, type SupervisorMachine, type SupervisorHost, type SupervisorContext, type SupervisorEvent, type SupervisorInput, type SupervisorStatus } from './supervisorMachine.js';
