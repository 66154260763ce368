/**
 * terminalText: text from outside (job ids, error messages, payload text) made safe to print. Any string is a valid
 * job id, and a store or a routine's error can hold anything: printed raw, an escape sequence would recolour, move
 * or rewrite the user's terminal, and a lone surrogate prints as garbage. So control characters (C0 but newline and
 * tab where lines are kept, DEL, C1), the bidirectional overrides that reorder what the reader sees, and lone
 * surrogates are shown as `\u` escapes, and a very long id is cut (its file name under `--out` is still unique).
 */

/** C0 and C1 controls, DEL, bidi embeddings/overrides/isolates, and lone surrogates. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;
/** The same, but a newline or a tab is kept: a multi-line message stays multi-line. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE_IN_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;

const escape = (char: string) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Longest id printed whole; longer ones keep their start and say how long they are. */
const MAX_ID = 120;

/** A job id (or any one-line value) for one line of output. */
export function printableId(id: string): string {
  const safe = id.replace(UNSAFE, escape);
  if (safe.length <= MAX_ID) return safe;
  // Cut between whole code points, never inside an escape.
  let cut = safe.slice(0, MAX_ID);
  const partial = cut.lastIndexOf('\\u');
  if (partial > MAX_ID - 6) cut = cut.slice(0, partial);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}... (${id.length} characters)`;
}

/** A message: lines kept, everything else that could act on the terminal escaped. */
export function printable(text: string): string {
  return text.replace(UNSAFE_IN_LINES, escape);
}
