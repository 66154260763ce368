/**
 * CLI option parsers: each turns one flag's text into a value, or throws commander's `InvalidArgumentError`, which
 * commander reports naming the flag (`option '--concurrency <n>' argument '0' is invalid. ...`).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Payload } from 'slotflow';

/** `--concurrency`: an integer from 1 and up. */
export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value) || value < 1) throw new InvalidArgumentError(`Expected an integer from 1 and up, got '${text}'.`);
  return value;
}

/** `--params`: a JSON object, inline or `@file` (a file holding one). */
export function params(text: string): Payload {
  let source = text;
  let where = 'the value';
  if (text.startsWith('@')) {
    const file = text.slice(1);
    where = `file '${file}'`;
    try {
      source = readFileSync(file, 'utf8');
    } catch (error) {
      throw new InvalidArgumentError(`Expected JSON or @file; cannot read ${where}: ${(error as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw new InvalidArgumentError(`Expected a JSON object (or @file holding one); ${where} is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidArgumentError(`Expected a JSON object (the entry slot's payload); ${where} holds ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}.`);
  return value as Payload;
}

/** `--jobs`: an integer from 0 and up (0: only resume what `--store` holds). */
export function nonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError(`Expected an integer from 0 and up, got '${text}'.`);
  return value;
}

/** A directory path that is not empty text. */
export function directory(text: string): string {
  if (text.trim() === '') throw new InvalidArgumentError('Expected a directory path, got an empty string.');
  return text;
}

/** `--port`: an integer from 0 (a free port) to 65535. */
export function port(text: string): number {
  const value = Number(text);
  if (!/^\s*\d+\s*$/.test(text) || value > 65535) throw new InvalidArgumentError(`Expected a port from 0 (any free port) to 65535, got '${text}'.`);
  return value;
}
