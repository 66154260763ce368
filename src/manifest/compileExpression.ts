/**
 * compileExpression: the small, safe expression language of manifests' `until` guards, compiled to a closure by a
 * hand-written tokenizer and recursive-descent parser (no `eval`, no `new Function`).
 *
 *   expr  := or
 *   or    := and ('or' and)*
 *   and   := not ('and' not)*
 *   not   := 'not' not | cmp
 *   cmp   := value (('==' | '!=' | '<' | '<=' | '>' | '>=') value)?      comparisons do not chain
 *   value := number | '-' number | string | true | false | null | path | '(' expr ')'
 *   path  := name ('.' name)*                                            a payload field: `converged`, `stats.n`
 *
 * Semantics: a path reads own properties only (a missing one is `undefined`); `==` and `!=` are strict (no
 * coercion: `n == 10` is false for the string `'10'`); `<`, `<=`, `>`, `>=` hold only between two numbers or two
 * strings; `and`, `or`, `not` use JavaScript truthiness and give booleans.
 */
import { ManifestError } from 'slotflow';
import { setExpressionSource } from '../flow/expressionSource.js';

/** A compiled expression: a predicate over a payload (any value; fields are read from objects), which remembers its source. */
export interface Expression {
  (payload: unknown): boolean;
  readonly source: string;
}

/** Where and why an expression does not parse (column from 1). */
export interface ExpressionSyntaxProblem {
  readonly column: number;
  readonly message: string;
}

/**
 * Compiles an expression, for an `until` in code that should survive `toManifest` (and show in `toMermaid`).
 * Throws `ManifestError` (at path `until`) on a syntax error.
 * @example
 * flow.connect('opt.next', 'opt.input', { maxIterations: 100, until: compileExpression('converged == true') });
 */
export function compileExpression(source: string): Expression {
  const result = parseExpression(source);
  if ('column' in result) throw new ManifestError([{ path: 'until', message: describeSyntaxProblem(source, result) }]);
  return result;
}

/** `syntax error at column 5 of 'n >=': expected a value after '>=', got the end`. */
export function describeSyntaxProblem(source: string, problem: ExpressionSyntaxProblem): string {
  return `syntax error at column ${problem.column} of ${JSON.stringify(source)}: ${problem.message}`;
}

/** Compiles `source`, or says where it does not parse. */
export function parseExpression(source: string): Expression | ExpressionSyntaxProblem {
  if (typeof source !== 'string') return { column: 1, message: `expected an expression (a string), got ${typeof source}` };
  const tokens = tokenize(source);
  if (!Array.isArray(tokens)) return tokens;
  try {
    const parser = new Parser(tokens);
    const root = parser.parse();
    const fn = (payload: unknown) => Boolean(root(payload));
    return setExpressionSource(Object.assign(fn, { source }), source);
  } catch (error) {
    if (error instanceof SyntaxProblem) return { column: error.column, message: error.message };
    throw error;
  }
}

/**
 * The payload fields an expression reads (the first name of each path: `stats` for `stats.n`), with their columns,
 * for checking them against the fields an event declares. Empty for an expression that does not tokenize.
 */
export function expressionFields(source: string): { readonly name: string; readonly column: number }[] {
  const tokens = tokenize(source);
  if (!Array.isArray(tokens)) return [];
  return tokens.filter((t) => t.kind === 'name' && !KEYWORDS.has(t.text)).map((t) => ({ name: t.text.split('.')[0] ?? t.text, column: t.column }));
}

type TokenKind = 'number' | 'string' | 'name' | 'op' | '(' | ')' | 'end';
interface Token {
  readonly kind: TokenKind;
  /** The token's text (for a string: its value; for a number: as written). */
  readonly text: string;
  readonly column: number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '<', '>'] as const;
type Operator = (typeof OPERATORS)[number];
const HINTS: Readonly<Record<string, string>> = { '&': "use 'and'", '|': "use 'or'", '!': "use 'not' (or '!=')", '=': "use '==' to compare" };
const ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };
const NAME = /[A-Za-z_$][\w$]*/y;
const NUMBER = /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

function tokenize(source: string): Token[] | ExpressionSyntaxProblem {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source.charAt(i);
    const column = i + 1;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch, text: ch, column });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', text: op, column });
      i += op.length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const scanned = stringAt(source, i);
      if (!('token' in scanned)) return scanned;
      tokens.push(scanned.token);
      i = scanned.end;
      continue;
    }
    NUMBER.lastIndex = i;
    const number = NUMBER.exec(source);
    if (number) {
      tokens.push({ kind: 'number', text: number[0], column });
      i += number[0].length;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(source);
    if (name) {
      const scanned = pathAt(source, i, name[0]);
      if (!('token' in scanned)) return scanned;
      tokens.push(scanned.token);
      i = scanned.end;
      continue;
    }
    if (ch === '-') {
      tokens.push({ kind: 'op', text: '-', column });
      i++;
      continue;
    }
    const hint = HINTS[ch];
    return { column, message: `unexpected character '${ch}'${hint ? `; ${hint}` : ''}` };
  }
  tokens.push({ kind: 'end', text: '', column: source.length + 1 });
  return tokens;
}

/** A token read by a scanner, and the index just past it; or why it cannot be read. */
type Scanned = { readonly token: Token; readonly end: number } | ExpressionSyntaxProblem;

/** The string literal opening at `start` (its quote), escapes resolved. */
function stringAt(source: string, start: number): Scanned {
  const quote = source.charAt(start);
  let value = '';
  let j = start + 1;
  for (; j < source.length && source.charAt(j) !== quote; j++) {
    if (source.charAt(j) === '\\') {
      const escaped = ESCAPES[source.charAt(j + 1)];
      if (escaped === undefined) return { column: j + 1, message: `unknown escape '\\${source.charAt(j + 1)}' in a string; use \\\\, \\', \\", \\n, \\t or \\r` };
      value += escaped;
      j++;
    } else value += source.charAt(j);
  }
  if (j >= source.length) return { column: start + 1, message: `unterminated string: no closing ${quote}` };
  return { token: { kind: 'string', text: value, column: start + 1 }, end: j + 1 };
}

/** The dotted name (`stats.n`) starting at `start` with `first`, its first part. */
function pathAt(source: string, start: number, first: string): Scanned {
  let text = first;
  let i = start + first.length;
  while (source.charAt(i) === '.') {
    NAME.lastIndex = i + 1;
    const next = NAME.exec(source);
    if (!next) return { column: i + 2, message: `expected a field name after '${text}.'` };
    text += `.${next[0]}`;
    i += next[0].length + 1;
  }
  return { token: { kind: 'name', text, column: start + 1 }, end: i };
}

class SyntaxProblem extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

type Node = (payload: unknown) => unknown;
const MAX_DEPTH = 64;
const KEYWORDS = new Set(['and', 'or', 'not', 'true', 'false', 'null']);

class Parser {
  #at = 0;
  #depth = 0;
  constructor(readonly tokens: readonly Token[]) {}

  parse(): Node {
    if (this.#peek().kind === 'end') throw new SyntaxProblem(this.#peek().column, 'expected an expression, got nothing');
    const node = this.#or();
    const next = this.#peek();
    if (next.kind !== 'end') throw new SyntaxProblem(next.column, `expected an operator ('==', 'and', 'or', ...) or the end, got ${show(next)}`);
    return node;
  }

  // A chain of `or` (or `and`) is one node over its operands, evaluated in a loop: nested closures, one per
  // operator, would overflow the stack on a long chain.
  #or(): Node {
    const operands = [this.#and()];
    while (this.#keyword('or')) operands.push(this.#and());
    return operands.length === 1 ? (operands[0] as Node) : (p) => operands.some((operand) => Boolean(operand(p)));
  }

  #and(): Node {
    const operands = [this.#not()];
    while (this.#keyword('and')) operands.push(this.#not());
    return operands.length === 1 ? (operands[0] as Node) : (p) => operands.every((operand) => Boolean(operand(p)));
  }

  #not(): Node {
    if (this.#keyword('not')) {
      const operand = this.#nested(() => this.#not());
      return (p) => !operand(p);
    }
    return this.#comparison();
  }

  #comparison(): Node {
    const left = this.#value();
    const op = this.#peek();
    if (op.kind !== 'op' || op.text === '-') return left;
    this.#at++;
    const right = this.#value(op.text);
    const after = this.#peek();
    if (after.kind === 'op' && after.text !== '-') throw new SyntaxProblem(after.column, `comparisons do not chain; combine them with 'and'`);
    return compare(op.text as Operator, left, right);
  }

  #value(after?: string): Node {
    const token = this.#peek();
    const expected = () => new SyntaxProblem(token.column, `expected a value${after === undefined ? '' : ` after '${after}'`}, got ${show(token)}`);
    switch (token.kind) {
      case 'number': {
        this.#at++;
        const value = Number(token.text);
        return () => value;
      }
      case 'string': {
        this.#at++;
        const value = token.text;
        return () => value;
      }
      case '(': {
        this.#at++;
        const inner = this.#nested(() => this.#or());
        const close = this.#peek();
        if (close.kind !== ')') throw new SyntaxProblem(close.column, `expected ')' to close the '(' at column ${token.column}, got ${show(close)}`);
        this.#at++;
        return inner;
      }
      case 'op': {
        const next = this.tokens[this.#at + 1];
        if (token.text !== '-' || next?.kind !== 'number') throw expected();
        this.#at += 2;
        const value = -Number(next.text);
        return () => value;
      }
      case 'name': {
        if (token.text === 'true' || token.text === 'false') {
          this.#at++;
          const value = token.text === 'true';
          return () => value;
        }
        if (token.text === 'null') {
          this.#at++;
          return () => null;
        }
        if (KEYWORDS.has(token.text)) throw expected();
        this.#at++;
        const path = token.text.split('.');
        return (p) => read(p, path);
      }
      default:
        throw expected();
    }
  }

  #nested(parse: () => Node): Node {
    if (++this.#depth > MAX_DEPTH) throw new SyntaxProblem(this.#peek().column, `nesting deeper than ${MAX_DEPTH} levels`);
    const node = parse();
    this.#depth--;
    return node;
  }

  #keyword(word: string): boolean {
    const token = this.#peek();
    if (token.kind !== 'name' || token.text !== word) return false;
    this.#at++;
    return true;
  }

  #peek(): Token {
    return this.tokens[this.#at] ?? (this.tokens.at(-1) as Token);
  }
}

function show(token: Token): string {
  if (token.kind === 'end') return 'the end';
  if (token.kind === 'string') return `the string ${JSON.stringify(token.text)}`;
  return `'${token.text}'`;
}

function compare(op: Operator, left: Node, right: Node): Node {
  switch (op) {
    case '==':
      return (p) => left(p) === right(p);
    case '!=':
      return (p) => left(p) !== right(p);
    default:
      return (p) => ordered(op, left(p), right(p));
  }
}

function ordered(op: Operator, a: unknown, b: unknown): boolean {
  if (!((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string'))) return false;
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    default:
      return a >= b;
  }
}

/** A payload field by path, through own properties only. */
function read(payload: unknown, path: readonly string[]): unknown {
  let value = payload;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
