import { describe, expect, it } from 'vitest';
import { ManifestError } from 'slotflow';
import { createRoutineRegistry, loadFlow } from 'slotflow/manifest';
import { fetcher } from './routines.js';

const routines = createRoutineRegistry([fetcher]);

/** The config of routine `f` after loading a manifest with `config` under env `env`. */
function configOf(config: Record<string, unknown>, env: Record<string, string | undefined>) {
  return loadFlow({ id: 'env', routines: { f: { type: 'fetcher', config } } }, { routines, env }).compile().routines.get('f')!.config;
}

function problemsOf(config: Record<string, unknown>, env: Record<string, string | undefined>) {
  try {
    configOf(config, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('expected a ManifestError');
}

describe('loadFlow: environment references in config', () => {
  it('resolves ${env.NAME} anywhere in a string, and in nested values', () => {
    const config = configOf({ url: 'https://${env.HOST}:${env.PORT}/api', sourceName: '${env.SOURCE}' }, { HOST: 'example.org', PORT: '8443', SOURCE: 'S1' });
    expect(config).toMatchObject({ url: 'https://example.org:8443/api', sourceName: 'S1' });
  });

  it('uses the default after :- when the variable is unset or empty, as a shell does', () => {
    expect(configOf({ sourceName: '${env.SOURCE:-fallback}' }, {}).sourceName).toBe('fallback');
    expect(configOf({ sourceName: '${env.SOURCE:-fallback}' }, { SOURCE: '' }).sourceName).toBe('fallback');
    expect(configOf({ sourceName: '${env.SOURCE:-fallback}' }, { SOURCE: 'set' }).sourceName).toBe('set');
    expect(configOf({ sourceName: '${env.SOURCE:-}' }, {}).sourceName).toBe('');
    expect(configOf({ sourceName: '${env.SOURCE}' }, { SOURCE: '' }).sourceName).toBe('');
  });

  it('gives a whole-string reference the type of the default it overrides', () => {
    expect(configOf({ retries: '${env.RETRIES:-3}', verbose: '${env.VERBOSE:-true}' }, {})).toMatchObject({ retries: 3, verbose: true });
    expect(configOf({ retries: '${env.RETRIES:-3}', verbose: '${env.VERBOSE}' }, { RETRIES: '7.5', VERBOSE: 'false' })).toMatchObject({ retries: 7.5, verbose: false });
  });

  it('keeps $${ as a literal ${', () => {
    expect(configOf({ sourceName: 'cost: $${env.PRICE} (${env.CURRENCY})' }, { CURRENCY: 'EUR' }).sourceName).toBe('cost: ${env.PRICE} (EUR)');
  });

  it('reports every missing variable and malformed reference with its path', () => {
    expect(problemsOf({ url: '${env.API_URL}', sourceName: '${API_URL}', retries: '${env.RETRIES}' }, {})).toEqual([
      "routines.f.config.url: environment variable 'API_URL' is not set (referenced as ${env.API_URL}); set it, or give a default: ${env.API_URL:-value}",
      "routines.f.config.sourceName: invalid reference '${API_URL}'; expected ${env.NAME} or ${env.NAME:-default} (write $${ for a literal ${)",
      "routines.f.config.retries: environment variable 'RETRIES' is not set (referenced as ${env.RETRIES}); set it, or give a default: ${env.RETRIES:-value}",
    ]);
  });

  it('reports a variable whose value does not fit the default type', () => {
    expect(problemsOf({ retries: '${env.RETRIES}', verbose: '${env.VERBOSE}' }, { RETRIES: 'many', VERBOSE: 'yes' })).toEqual([
      "routines.f.config.retries: expected a number (the default is 3), got 'many' from ${env.RETRIES}",
      "routines.f.config.verbose: expected true or false (the default is false), got 'yes' from ${env.VERBOSE}",
    ]);
  });

  it('reports unknown config keys and values whose type differs from the default', () => {
    expect(problemsOf({ sourceNmae: 'x', retries: 'three', url: 5 }, {})).toEqual([
      "routines.f.config.sourceNmae: unknown config key for routine type 'fetcher'; expected one of 'sourceName', 'retries', 'verbose', 'url'",
      'routines.f.config.retries: expected a number (the default is 3), got \'three\'',
      'routines.f.config.url: expected a string (the default is "http://localhost"), got 5',
    ]);
  });

  it('reports a nested reference instead of mangling it (nesting is not supported)', () => {
    expect(problemsOf({ sourceName: '${env.A:-${env.B}}' }, { B: 'b' })).toEqual([
      "routines.f.config.sourceName: nested reference in '${env.A:-${env.B}}': a reference cannot hold another ${ (nesting is not supported); give a plain default (${env.NAME:-value}), or write $${ for a literal ${",
    ]);
    expect(problemsOf({ url: 'http://${env.HOST:-${env.FALLBACK}}/x' }, { HOST: 'set' })[0]).toMatch(/^routines\.f\.config\.url: nested reference in /);
  });

  it('reports an array or object where the default is a number, string or boolean', () => {
    expect(problemsOf({ retries: [1, 2], sourceName: { name: 'x' }, verbose: ['${env.MISSING}'] }, {})).toEqual([
      'routines.f.config.retries: expected a number (the default is 3), got an array',
      'routines.f.config.sourceName: expected a string (the default is "Source"), got an object',
      'routines.f.config.verbose: expected a boolean (the default is false), got an array',
    ]);
  });

  it('reads process.env when no env is given', () => {
    process.env.SLOTFLOW_MANIFEST_TEST_SOURCE = 'from-process';
    try {
      const config = loadFlow({ id: 'p', routines: { f: { type: 'fetcher', config: { sourceName: '${env.SLOTFLOW_MANIFEST_TEST_SOURCE}' } } } }, { routines }).compile().routines.get('f')!.config;
      expect(config.sourceName).toBe('from-process');
    } finally {
      delete process.env.SLOTFLOW_MANIFEST_TEST_SOURCE;
    }
  });
});
