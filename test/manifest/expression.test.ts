import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expressionSourceOf, ManifestError } from 'slotflow';
import { compileExpression } from 'slotflow/manifest';

const holds = (source: string, payload: Record<string, unknown>) => compileExpression(source)(payload);

/** The syntax problem message `source` gives. */
function syntaxError(source: string): string {
  try {
    compileExpression(source);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    const problems = (error as ManifestError).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('until');
    return problems[0]!.message;
  }
  throw new Error(`expected ${JSON.stringify(source)} not to compile`);
}

describe('compileExpression', () => {
  it('compares payload fields with literals', () => {
    expect(holds('converged == true', { converged: true })).toBe(true);
    expect(holds('converged == true', { converged: 'yes' })).toBe(false);
    expect(holds('n >= 10', { n: 10 })).toBe(true);
    expect(holds('n >= 10', { n: 9.5 })).toBe(false);
    expect(holds('n < -2.5', { n: -3 })).toBe(true);
    expect(holds("status != 'done'", { status: 'running' })).toBe(true);
    expect(holds('status == "it\'s \\"done\\""', { status: 'it\'s "done"' })).toBe(true);
    expect(holds('error == null', { error: null })).toBe(true);
    expect(holds('error == null', {})).toBe(false);
  });

  it('reads dotted paths through own properties only', () => {
    expect(holds('stats.best.score > 0.9', { stats: { best: { score: 0.95 } } })).toBe(true);
    expect(holds('stats.best.score > 0.9', { stats: null })).toBe(false);
    expect(holds('items.length == 2', { items: [1, 2] })).toBe(true);
    expect(holds('constructor == null', {})).toBe(false);
    expect(holds('toString', {})).toBe(false);
    expect(holds('a.__proto__', { a: {} })).toBe(false);
  });

  it('does not coerce: == is strict and ordering needs two numbers or two strings', () => {
    expect(holds('n == 10', { n: '10' })).toBe(false);
    expect(holds('n > 1', { n: '2' })).toBe(false);
    expect(holds("name < 'b'", { name: 'a' })).toBe(true);
    expect(holds('n <= 3', {})).toBe(false);
    expect(holds('n > 3', { n: null })).toBe(false);
  });

  it('combines with and, or, not and parentheses, not binding looser than comparisons', () => {
    expect(holds('a or b and c', { a: true, b: false, c: false })).toBe(true);
    expect(holds('(a or b) and c', { a: true, b: false, c: false })).toBe(false);
    expect(holds('not n > 3', { n: 2 })).toBe(true);
    expect(holds('not not converged', { converged: 1 })).toBe(true);
    expect(holds('converged', { converged: 0 })).toBe(false);
    expect(holds('(n > 3) == false', { n: 1 })).toBe(true);
  });

  it('keeps its source, for toManifest and toMermaid', () => {
    const until = compileExpression('n >= 10');
    expect(until.source).toBe('n >= 10');
    expect(expressionSourceOf(until)).toBe('n >= 10');
    expect(expressionSourceOf(() => true)).toBeUndefined();
  });

  it('evaluates long and/or chains without growing the stack', () => {
    const terms = 20_000;
    const or = compileExpression(Array.from({ length: terms }, (_, i) => `n == ${i}`).join(' or '));
    expect(or({ n: terms - 1 })).toBe(true);
    expect(or({ n: -1 })).toBe(false);
    const and = compileExpression(Array.from({ length: terms }, (_, i) => `n > ${i - terms}`).join(' and '));
    expect(and({ n: 0 })).toBe(true);
    expect(and({ n: -1 })).toBe(false);
  });

  it('reports syntax errors with their column', () => {
    expect(syntaxError('')).toBe('syntax error at column 1 of "": expected an expression, got nothing');
    expect(syntaxError('n >=')).toBe('syntax error at column 5 of "n >=": expected a value after \'>=\', got the end');
    expect(syntaxError('converged = true')).toBe('syntax error at column 11 of "converged = true": unexpected character \'=\'; use \'==\' to compare');
    expect(syntaxError('a && b')).toContain("column 3 of \"a && b\": unexpected character '&'; use 'and'");
    expect(syntaxError('a b')).toContain("column 3 of \"a b\": expected an operator ('==', 'and', 'or', ...) or the end, got 'b'");
    expect(syntaxError('(a or b')).toContain("column 8 of \"(a or b\": expected ')' to close the '(' at column 1, got the end");
    expect(syntaxError('1 < n < 3')).toContain("column 7 of \"1 < n < 3\": comparisons do not chain; combine them with 'and'");
    expect(syntaxError("s == 'open")).toContain('column 6 of "s == \'open": unterminated string');
    expect(syntaxError('a. b')).toContain("column 3 of \"a. b\": expected a field name after 'a.'");
    expect(syntaxError('n == and')).toContain("column 6 of \"n == and\": expected a value after '==', got 'and'");
    expect(syntaxError('- n')).toContain("column 1 of \"- n\": expected a value, got '-'");
    expect(syntaxError("'\\q'")).toContain("column 2 of \"'\\\\q'\": unknown escape '\\q'");
    expect(syntaxError(`${'('.repeat(100)}a${')'.repeat(100)}`)).toContain('nesting deeper than 64 levels');
  });
});

// A reference evaluator over a syntax tree, and a printer for it, to check the compiler against.
type Value = number | string | boolean | null;
type Ast =
  | { readonly k: 'lit'; readonly v: Value }
  | { readonly k: 'path'; readonly p: readonly string[] }
  | { readonly k: 'cmp'; readonly op: '==' | '!=' | '<' | '<=' | '>' | '>='; readonly l: Ast; readonly r: Ast }
  | { readonly k: 'and' | 'or'; readonly l: Ast; readonly r: Ast }
  | { readonly k: 'not'; readonly e: Ast };

const FIELDS = ['a', 'b', 'n', 'converged'];

function read(payload: unknown, path: readonly string[]): unknown {
  let value = payload;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function evaluate(ast: Ast, payload: Record<string, unknown>): unknown {
  switch (ast.k) {
    case 'lit':
      return ast.v;
    case 'path':
      return read(payload, ast.p);
    case 'not':
      return !evaluate(ast.e, payload);
    case 'and':
      return Boolean(evaluate(ast.l, payload)) && Boolean(evaluate(ast.r, payload));
    case 'or':
      return Boolean(evaluate(ast.l, payload)) || Boolean(evaluate(ast.r, payload));
    case 'cmp': {
      const l = evaluate(ast.l, payload);
      const r = evaluate(ast.r, payload);
      if (ast.op === '==') return l === r;
      if (ast.op === '!=') return l !== r;
      const comparable = (typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string');
      if (!comparable) return false;
      const [x, y] = [l, r] as [number, number];
      return ast.op === '<' ? x < y : ast.op === '<=' ? x <= y : ast.op === '>' ? x > y : x >= y;
    }
  }
}

const PRECEDENCE = { or: 1, and: 2, not: 3, cmp: 4, lit: 5, path: 5 } as const;

function literal(v: Value): string {
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return v < 0 || Object.is(v, -0) ? `-${String(-v)}` : String(v);
  return String(v);
}

/** Prints with the parentheses precedence needs, plus those `extra` asks for. */
function print(ast: Ast, min: number, extra: () => boolean): string {
  const text = (() => {
    switch (ast.k) {
      case 'lit':
        return literal(ast.v);
      case 'path':
        return ast.p.join('.');
      case 'not':
        return `not ${print(ast.e, 3, extra)}`;
      case 'and':
        return `${print(ast.l, 2, extra)} and ${print(ast.r, 3, extra)}`;
      case 'or':
        return `${print(ast.l, 1, extra)} or ${print(ast.r, 2, extra)}`;
      case 'cmp':
        return `${print(ast.l, 5, extra)} ${ast.op} ${print(ast.r, 5, extra)}`;
    }
  })();
  return PRECEDENCE[ast.k] < min || extra() ? `(${text})` : text;
}

// Few distinct values, mostly numbers, so that comparisons often meet comparable and equal operands.
const value: fc.Arbitrary<Value> = fc.oneof(
  { arbitrary: fc.integer({ min: -2, max: 2 }), weight: 4 },
  { arbitrary: fc.constantFrom(0.5, -1.25, 3e2), weight: 1 },
  { arbitrary: fc.string({ unit: fc.constantFrom('a', 'b', "'", '\\', ' ', 'é'), maxLength: 2 }), weight: 2 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
);
const path = fc.array(fc.constantFrom(...FIELDS), { minLength: 1, maxLength: 2 });
const lit = fc.record({ k: fc.constant('lit' as const), v: value });
const field = fc.record({ k: fc.constant('path' as const), p: path });
const { ast } = fc.letrec<{ ast: Ast; operand: Ast }>((tie) => ({
  operand: fc.oneof({ depthSize: 'small' }, { arbitrary: lit, weight: 2 }, { arbitrary: field, weight: 3 }, { arbitrary: tie('ast'), weight: 1 }),
  ast: fc.oneof(
    { depthSize: 'small' },
    { arbitrary: field, weight: 1 },
    { arbitrary: fc.record({ k: fc.constant('cmp' as const), op: fc.constantFrom('==', '!=', '<', '<=', '>', '>=' as const), l: tie('operand'), r: tie('operand') }), weight: 3 },
    { arbitrary: fc.record({ k: fc.constantFrom('and' as const, 'or' as const), l: tie('ast'), r: tie('ast') }), weight: 1 },
    { arbitrary: fc.record({ k: fc.constant('not' as const), e: tie('ast') }), weight: 1 },
  ),
}));
const leaf = fc.oneof({ arbitrary: value, weight: 5 }, { arbitrary: fc.constant(undefined), weight: 1 });
const payload = fc.dictionary(fc.constantFrom(...FIELDS), fc.oneof(leaf, fc.dictionary(fc.constantFrom(...FIELDS), leaf)), { maxKeys: 4 });

describe('compileExpression (properties)', () => {
  it('agrees with a reference evaluator on random expressions and payloads', () => {
    fc.assert(
      fc.property(ast, fc.infiniteStream(fc.boolean()), fc.array(payload, { minLength: 1, maxLength: 5 }), (tree, coins, payloads) => {
        const coin = coins[Symbol.iterator]();
        const source = print(tree, 0, () => coin.next().value === true && coin.next().value === true);
        const compiled = compileExpression(source);
        for (const p of payloads) expect(compiled(p)).toBe(Boolean(evaluate(tree, p)));
      }),
      { numRuns: 2000 },
    );
  });

  it('either compiles any text or reports a syntax error inside it, never anything else', () => {
    const unit = fc.constantFrom('a', 'n', '.', ' ', '(', ')', '=', '!', '<', '>', '-', '1', "'", '"', '\\', 'and ', 'or ', 'not ', 'true', '&');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 24 }), (source) => {
        try {
          const compiled = compileExpression(source);
          expect(typeof compiled({ a: 1, n: 2 })).toBe('boolean');
        } catch (error) {
          expect(error).toBeInstanceOf(ManifestError);
          const column = /column (\d+)/.exec((error as ManifestError).problems[0]!.message);
          expect(Number(column?.[1])).toBeGreaterThanOrEqual(1);
          expect(Number(column?.[1])).toBeLessThanOrEqual(source.length + 1);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
