/**
 * jobFileName: the file name (without `.json`) the file store gives a job id, and back.
 *
 * Any string is a valid job id, so the name must be safe on every file system and unique per id, even where names
 * are case-insensitive (macOS, Windows): lowercase ASCII letters, digits, `-` and `_` are kept, every other UTF-16
 * code unit is escaped as `%xx` (below 0x100) or `%uxxxx`, lowercase hex. So a uuid stays readable, `'../x'`
 * becomes `%2e%2e%2fx`, `'Job'` becomes `%4aob`, and lone surrogates survive. The empty id is `%`. An escaped name
 * longer than MAX_NAME keeps a readable prefix and ends in `~` + the sha256 of the escaped name (`~` appears in no
 * other name); such a name cannot be decoded, so the store reads the job id from the file.
 */
import { createHash } from 'node:crypto';

/** Longest name kept as is: with `.json` and a temp suffix it stays well under the usual 255-byte limit. */
const MAX_NAME = 160;
/** How much of a too-long name is kept in front of its hash. */
const HASHED_PREFIX = 95;
/** Names Windows reserves whatever the extension: their first letter is escaped. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

function isKept(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x2d || code === 0x5f;
}

function escapeUnit(code: number): string {
  return code < 0x100 ? `%${code.toString(16).padStart(2, '0')}` : `%u${code.toString(16).padStart(4, '0')}`;
}

/** The job's file name, without extension. Injective: two ids never share a name. */
export function jobFileName(jobId: string): string {
  if (jobId === '') return '%';
  let name = '';
  for (let i = 0; i < jobId.length; i++) {
    const code = jobId.charCodeAt(i);
    name += isKept(code) ? jobId.charAt(i) : escapeUnit(code);
  }
  if (RESERVED.test(name)) name = escapeUnit(name.charCodeAt(0)) + name.slice(1);
  if (name.length <= MAX_NAME) return name;
  return `${name.slice(0, HASHED_PREFIX)}~${createHash('sha256').update(name).digest('hex')}`;
}

/** True when `name` ends in a hash: the job id must be read from the file. */
export function isHashedName(name: string): boolean {
  return name.includes('~');
}

/**
 * The job id a name stands for, or `undefined` when the name is hashed or is not one `jobFileName` produces (a file
 * someone else put in the directory).
 */
export function jobIdOfFileName(name: string): string | undefined {
  if (name === '%') return '';
  if (isHashedName(name)) return undefined;
  let id = '';
  for (let i = 0; i < name.length; ) {
    const char = name.charAt(i);
    if (char !== '%') {
      id += char;
      i++;
      continue;
    }
    const wide = name.charAt(i + 1) === 'u';
    const hex = wide ? name.slice(i + 2, i + 6) : name.slice(i + 1, i + 3);
    if (!/^[0-9a-f]+$/.test(hex) || hex.length !== (wide ? 4 : 2)) return undefined;
    id += String.fromCharCode(parseInt(hex, 16));
    i += wide ? 6 : 3;
  }
  return jobFileName(id) === name ? id : undefined;
}
