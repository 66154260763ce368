/**
 * Manifests: typos in `until` and `${env...}` references are problems, every problem comes in one round, and a
 * hostile document (deep, reserved names) is a ManifestError, never a crash.
 */
import { describe, expect, it } from 'vitest';
import { isInvalidOptionError, isManifestError } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { collector, counter, fetcher } from '../manifest/routines.js';

const routines = createRoutineRegistry([fetcher, collector, counter]);

function problemsOf(manifest: unknown, env: Record<string, string> = {}): string[] {
  try {
    loadFlow(manifest as string, { routines, env });
  } catch (error) {
    expect(isManifestError(error), String(error)).toBe(true);
    return (error as { problems: { path: string; message: string }[] }).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ManifestError');
}

const cycle = (until: string) => `
id: opt
routines:
  count: { type: counter }
connections:
  - { from: count.next, to: count.input, maxIterations: 50, until: '${until}' }
`;

describe('until', () => {
  it("'converged == True' (an undeclared name) is a problem with a did-you-mean", () => {
    expect(problemsOf(cycle('converged == True'))).toEqual([
      `connections[0].until: "converged == True" reads 'True' (column 14), which event 'count.next' does not declare; its fields are 'n', 'converged'; did you mean 'true'?`,
    ]);
    expect(problemsOf(cycle('convergd == true'))[0]).toMatch(/reads 'convergd' .*did you mean 'converged'\?$/);
    expect(() => loadFlow(cycle('n >= 7 and converged == false or not converged and n == null'), { routines })).not.toThrow();
  });
});

describe('env references', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty'])('${env.%s} resolves own properties of env only', (name) => {
    const manifest = { id: 'f', routines: { f: { type: 'fetcher', config: { sourceName: `\${env.${name}}` } } } };
    expect(problemsOf(manifest, {})).toEqual([`routines.f.config.sourceName: environment variable '${name}' is not set (referenced as \${env.${name}}); set it, or give a default: \${env.${name}:-value}`]);
  });
});

describe('every problem in one round', () => {
  it('an unbounded cycle is reported together with the other problems', () => {
    const problems = problemsOf(`
id: f
routines:
  a: { type: fetcher }
  b: { type: nosuch }
connections:
  - { from: a.output, to: a.trigger }
`);
    expect(problems).toEqual([
      expect.stringMatching(/^routines\.b\.type: unknown routine type 'nosuch'/),
      expect.stringMatching(/^connections\[0\]: connection 'a\.output->a\.trigger' closes an unbounded cycle \(a -> a\)/),
    ]);
  });
});

describe('hostile documents', () => {
  const deep = (depth: number) => {
    const root: Record<string, unknown> = {};
    let at = root;
    for (let i = 0; i < depth; i++) at = (at.a = {});
    return root;
  };

  it('an object 10,000 levels deep is a ManifestError naming where, not a RangeError', () => {
    const problems = problemsOf({ id: 'f', routines: { f: { type: 'fetcher', config: { url: deep(10_000) } } } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^routines\.f\.config\.url(\.a)+: nested more than 64 levels deep/);
  });

  it('JSON and YAML text 10,000 levels deep is one ManifestError problem', () => {
    const json = `{"id":"f","routines":{"f":{"type":"fetcher","config":{"url":${'['.repeat(10_000)}${']'.repeat(10_000)}}}}}`;
    for (const text of [json, `id: f\nroutines:\n  f:\n    type: fetcher\n    config:\n      url: ${'['.repeat(10_000)}${']'.repeat(10_000)}`]) {
      const problems = problemsOf(text);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/nested too deeply|nested more than 64 levels/);
    }
  });

  it("a routine id or connection name '__proto__' is a problem, and nothing is polluted", () => {
    const problems = problemsOf(
      '{"id":"f","routines":{"__proto__":{"type":"fetcher"},"c":{"type":"collector"}},"connections":[{"from":"c.collected","to":"c.input","name":"__proto__","maxIterations":2}]}',
    );
    expect(problems).toContain("routines.__proto__: routine id '__proto__' is a reserved name (it cannot be a plain object key); rename it");
    expect(problems).toContain("connections[0].name: connection name '__proto__' is a reserved name (it cannot be a plain object key); rename it");
    expect(({} as Record<string, unknown>).type).toBeUndefined();
  });

  it('loadFlow rejects an unknown option key', () => {
    let caught: unknown;
    try {
      loadFlow('id: f', { routines, sorce: 'x' } as never);
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionError(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/sorce.*did you mean 'source'/);
  });
});
