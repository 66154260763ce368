/**
 * Type markers for slots and events: `slot<T>()` and `event<T>(fields?)` give a payload type without a schema.
 */
declare const payloadType: unique symbol;

/** A compile-time payload type, with the fields checked at run time (if any were named). */
export interface TypeMarker<T> {
  readonly kind: 'slotflow.marker';
  readonly fields: readonly string[];
  readonly [payloadType]?: T;
}

/** A typed slot: `slots: { input: slot<{ n: number }>() }`. */
export function slot<T extends object = Record<string, unknown>>(): TypeMarker<T> {
  return { kind: 'slotflow.marker', fields: [] };
}

/** A typed event; name `fields` to have their presence checked on emit: `event<{ n: number }>(['n'])`. */
export function event<T extends object = Record<string, unknown>>(fields: readonly (keyof T & string)[] = []): TypeMarker<T> {
  return { kind: 'slotflow.marker', fields };
}

export function isTypeMarker(value: unknown): value is TypeMarker<object> {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'slotflow.marker';
}
