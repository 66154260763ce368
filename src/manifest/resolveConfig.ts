/**
 * resolveConfig: a manifest routine's config, with `${env.NAME}` and `${env.NAME:-default}` resolved, checked
 * against the routine definition's config defaults (known keys; a number where the default is a number).
 *
 * A string that is exactly one reference takes the type of the default it overrides, so
 * `retries: '${env.RETRIES:-3}'` gives the number 3 when the default of `retries` is a number. `$${` is a
 * literal `${`. As in a shell, `:-default` applies when the variable is unset or empty. References do not nest:
 * `${env.A:-${env.B}}` is reported, not guessed at.
 */
import type { ManifestProblem } from 'slotflow';
import { describeInput, quoteList } from './describeInput.js';
import { record } from './record.js';

export type Env = Readonly<Record<string, string | undefined>>;

// `toManifest` (src/flow/toManifest.ts) escapes config text with this same pattern: change both together.
const REFERENCE = /\$(\$?)\{([^}]*)\}/g;
const ENV_REFERENCE = /^env\.([A-Za-z_][A-Za-z0-9_]*)(?::-([^]*))?$/;

export function resolveConfig(
  config: Readonly<Record<string, unknown>>,
  defaults: Readonly<Record<string, unknown>>,
  routineType: string,
  env: Env,
  path: string,
  problems: ManifestProblem[],
): Record<string, unknown> {
  // Entries, then Object.fromEntries: every key is an own data property (a key never changes the prototype).
  const out: [string, unknown][] = [];
  const known = Object.keys(defaults);
  for (const [key, value] of Object.entries(config)) {
    if (!Object.hasOwn(defaults, key)) {
      problems.push({ path: `${path}.${key}`, message: `unknown config key for routine type '${routineType}'; expected one of ${quoteList(known)}` });
      continue;
    }
    out.push([key, resolveValue(value, defaults[key], env, `${path}.${key}`, problems)]);
  }
  return Object.fromEntries(out);
}

function resolveValue(value: unknown, fallback: unknown, env: Env, path: string, problems: ManifestProblem[]): unknown {
  const scalar = typeof fallback === 'number' || typeof fallback === 'string' || typeof fallback === 'boolean';
  if (typeof value === 'string') {
    const resolved = interpolate(value, env);
    if ('problem' in resolved) {
      problems.push({ path, message: resolved.problem });
      return value;
    }
    if (resolved.whole && typeof fallback === 'number') {
      const n = resolved.value.trim() === '' ? Number.NaN : Number(resolved.value);
      if (Number.isFinite(n)) return n;
      problems.push({ path, message: `expected a number (the default is ${fallback}), got '${resolved.value}' from ${value}` });
      return value;
    }
    if (resolved.whole && typeof fallback === 'boolean') {
      if (resolved.value === 'true' || resolved.value === 'false') return resolved.value === 'true';
      problems.push({ path, message: `expected true or false (the default is ${String(fallback)}), got '${resolved.value}' from ${value}` });
      return value;
    }
    value = resolved.value;
  } else if (Array.isArray(value) && !scalar) {
    return value.map((item, i) => resolveValue(item, undefined, env, `${path}[${i}]`, problems));
  } else if (typeof value === 'object' && value !== null && !scalar) {
    const nested = record(fallback);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, Object.hasOwn(nested, k) ? nested[k] : undefined, env, `${path}.${k}`, problems)]));
  }
  if (scalar && typeof value !== typeof fallback)
    problems.push({ path, message: `expected a ${typeof fallback} (the default is ${JSON.stringify(fallback)}), got ${describeInput(value)}` });
  return value;
}

/** Resolves every reference in `text`; `whole` when `text` is exactly one `${env...}` reference. */
function interpolate(text: string, env: Env): { value: string; whole: boolean } | { problem: string } {
  let problem: string | undefined;
  let references = 0;
  const value = text.replace(REFERENCE, (match: string, escaped: string, body: string) => {
    if (escaped) return match.slice(1);
    references++;
    if (body.includes('${')) {
      problem ??= `nested reference in '${text}': a reference cannot hold another \${ (nesting is not supported); give a plain default (\${env.NAME:-value}), or write $\${ for a literal \${`;
      return match;
    }
    const ref = ENV_REFERENCE.exec(body);
    if (!ref) {
      problem ??= `invalid reference '${match}'; expected \${env.NAME} or \${env.NAME:-default} (write $\${ for a literal \${)`;
      return match;
    }
    const [, name = '', fallback] = ref;
    // Own properties only: `${env.constructor}` or `${env.toString}` must not find Object.prototype's functions.
    const set = Object.hasOwn(env, name) ? env[name] : undefined;
    if (set !== undefined && (set !== '' || fallback === undefined)) return set;
    if (fallback !== undefined) return fallback;
    problem ??= `environment variable '${name}' is not set (referenced as ${match}); set it, or give a default: \${env.${name}:-value}`;
    return match;
  });
  if (problem !== undefined) return { problem };
  const whole = references === 1 && /^\$\{[^}]*\}$/.test(text);
  return { value, whole };
}
