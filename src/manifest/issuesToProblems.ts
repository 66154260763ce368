/**
 * issuesToProblems: zod issues as manifest problems, one per culprit, each with its path in the document
 * (`routines.collect.policy.n`, `connections[1].from`).
 */
import type { ManifestProblem } from 'slotflow';
import type { z } from 'zod';

/** Formats a path: `routines.collect.policy.n`, `connections[1].from`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], base: readonly PropertyKey[] = []): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) problems.push({ path: formatPath([...path, key]), message: `unknown field '${key}'; ${issue.message}` });
        break;
      case 'invalid_key':
        problems.push(...issuesToProblems(issue.issues, path).map((p) => ({ ...p, message: `invalid key: ${p.message}` })));
        break;
      case 'invalid_union': {
        // A branch whose every issue lies below the value itself matched its shape (say, the object form of a
        // policy with a bad `n`): its issues are the useful ones. When every branch rejects the value as a whole,
        // the union's own message says what was expected.
        const matched = issue.errors.find((branch) => branch.length > 0 && branch.every((i) => i.path.length > 0));
        if (matched && issue.errors.length > 1) problems.push(...issuesToProblems(matched, path));
        else problems.push({ path: formatPath(path), message: issue.message });
        break;
      }
      default:
        problems.push({ path: formatPath(path), message: issue.message });
    }
  }
  return problems;
}
