/**
 * CliError: a failure the CLI reports as one message and an exit code (bad input it could not act on).
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    /** 1: the input is wrong (a manifest, a module); 2: the command line is. */
    readonly exitCode: 1 | 2 = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The message of anything thrown, for one line of output. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
