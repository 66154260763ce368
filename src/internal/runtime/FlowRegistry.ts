/**
 * FlowRegistry: the flows a runtime knows, compiled. A flow is kept while it is registered or while the runtime
 * holds a job of it (unfinished or retained): a flow passed straight to `exec` leaves with its last job, and so do
 * its per-flow metrics (`forget`).
 */
import { FlowNotFoundError, FlowValidationError, InvalidOptionError } from '../../errors/index.js';
import { compileFlow, isFlow, type FlowBuilder } from '../../flow/createFlow.js';
import type { FlowDefinition } from '../../flow/FlowDefinition.js';
import type { RoutineMap } from '../../flow/types.js';

/** What `exec`, `register` and `restore` take as a flow. */
export type AnyFlow = FlowBuilder<RoutineMap> | FlowDefinition;

export class FlowRegistry {
  readonly #flows = new Map<string, FlowDefinition>();
  /** Ids of the flows `register`ed (kept until `unregister`); the others were passed to `exec`. */
  readonly #registered = new Set<string>();
  /** Flow id -> how many of its jobs the runtime holds (unfinished or retained). */
  readonly #jobsOfFlow = new Map<string, number>();
  /** Told when a flow leaves, so what is kept per flow (metrics) goes with it. */
  readonly #forget: (flowId: string) => void;

  constructor(forget: (flowId: string) => void) {
    this.#forget = forget;
  }

  get(flowId: string): FlowDefinition | undefined {
    return this.#flows.get(flowId);
  }

  has(flowId: string): boolean {
    return this.#flows.has(flowId);
  }

  get ids(): string[] {
    return [...this.#flows.keys()];
  }

  /** A flow id (registered) or a flow (compiled and added); `where` names the call for the error. */
  resolve(flowOrId: string | AnyFlow, where = 'exec(flow)'): FlowDefinition {
    if (typeof flowOrId === 'string') {
      const flow = this.#flows.get(flowOrId);
      if (!flow) throw new FlowNotFoundError(flowOrId, [...this.#flows.keys()]);
      return flow;
    }
    if (!isFlow(flowOrId)) throw new InvalidOptionError(where, 'a flow id or a flow from createFlow()', flowOrId);
    return this.#add(compileFlow(flowOrId));
  }

  register(flow: AnyFlow): void {
    if (!isFlow(flow)) throw new InvalidOptionError('register(flow)', 'a flow from createFlow()', flow);
    this.#registered.add(this.#add(compileFlow(flow)).id);
  }

  /** Forgets a registered flow (the caller checked it has no unfinished jobs); its retained jobs keep its metrics. */
  unregister(flowId: string): void {
    this.#registered.delete(flowId);
    this.#flows.delete(flowId);
    if (!this.#jobsOfFlow.has(flowId)) this.#forget(flowId);
  }

  /** The runtime took a job of `flowId`. */
  jobAdded(flowId: string): void {
    this.#jobsOfFlow.set(flowId, (this.#jobsOfFlow.get(flowId) ?? 0) + 1);
  }

  /** A job of `flowId` left the runtime (retention, or a failed restore): an unregistered flow goes with its last job. */
  jobGone(flowId: string): void {
    const left = (this.#jobsOfFlow.get(flowId) ?? 1) - 1;
    if (left > 0) {
      this.#jobsOfFlow.set(flowId, left);
      return;
    }
    this.#jobsOfFlow.delete(flowId);
    if (this.#registered.has(flowId)) return;
    this.#flows.delete(flowId);
    this.#forget(flowId);
  }

  /** Adds a compiled flow; the same flow again is fine, another flow under its id is not. */
  #add(compiled: FlowDefinition): FlowDefinition {
    const existing = this.#flows.get(compiled.id);
    if (existing && existing !== compiled)
      throw new FlowValidationError(compiled.id, [{ path: 'id', message: `another flow is already registered under id '${compiled.id}'; flow ids are unique per runtime` }]);
    this.#flows.set(compiled.id, compiled);
    return compiled;
  }
}
