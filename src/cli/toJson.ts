/**
 * toJson: JSON text for what the CLI writes (job states, events), with errors as plain data instead of `{}`.
 */

/** An error as data: `name`, `message`, its own fields (`code`, `routineId`, `problems`, ...), and its `cause`. */
function errorData(error: Error): Record<string, unknown> {
  const data: Record<string, unknown> = { name: error.name, message: error.message };
  for (const [key, value] of Object.entries(error)) if (key !== 'stack') data[key] = value;
  if (error.cause !== undefined) data.cause = error.cause;
  return data;
}

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? errorData(value) : value;
}

export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, replacer, indent);
}
