/**
 * SlotflowError: the base of every error slotflow throws or reports.
 *
 * Each subclass has a literal `code` and a `name` equal to its class name, so errors can be told apart after
 * serialisation (`err.name === 'FlowValidationError'`), and an `isX` guard.
 */
export abstract class SlotflowError extends Error {
  /** A stable, machine-readable code (`'FLOW_VALIDATION'`, ...). */
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    // `name` follows the concrete class, so it survives minification only if set explicitly by subclasses.
    Object.defineProperty(this, 'name', { value: new.target.name, enumerable: false, configurable: true, writable: true });
  }

  /** A plain object for logs and JSON: name, code, message, and the subclass's own fields. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, code: this.code, message: this.message };
    for (const [key, value] of Object.entries(this)) if (key !== 'cause') out[key] = value;
    if (this.cause !== undefined) out.cause = serializeCause(this.cause);
    return out;
  }
}

function serializeCause(cause: unknown): unknown {
  if (cause instanceof SlotflowError) return cause.toJSON();
  if (cause instanceof Error) return { name: cause.name, message: cause.message };
  return cause;
}

/** True for any error slotflow throws or reports. */
export const isSlotflowError = (value: unknown): value is SlotflowError => value instanceof SlotflowError;

/** Describes a value for "expected X, got Y" messages: `0 (number)`, `'x' (string)`, `undefined`. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'string') return `'${value}' (string)`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  return 'an object';
}
