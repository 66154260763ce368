/**
 * Built-in policies are recognised by a brand, not by object identity: a routine module loaded by another copy of
 * slotflow (a CommonJS project gets the CommonJS build while the CLI runs the ES module one) still draws and
 * exports `immediate`, `batch(...)`, not `(custom)`. Loads the two builds test/helpers/buildCli.ts makes.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

type Slotflow = typeof import('slotflow');
const BUILD = join(import.meta.dirname, '..', '..', '.vitest', 'build');

describe('built-in policies across two copies of slotflow', () => {
  it('the ES module build recognises the CommonJS build policies, and a spread copy stays custom', async () => {
    const esm = (await import(pathToFileURL(join(BUILD, 'index.js')).href)) as Slotflow;
    const cjs = createRequire(import.meta.url)(join(BUILD, 'index.cjs')) as Slotflow;
    expect(esm.policies).not.toBe(cjs.policies);

    // Routines and policies from the CommonJS copy; the flow, its drawing and its manifest from the ES module copy.
    const fetcher = cjs.defineRoutine({ name: 'fetcher', slots: ['trigger'], events: { output: ['data'] }, run() {} });
    const collector = cjs.defineRoutine({ name: 'collector', slots: ['input'], events: {}, run() {} });
    const spread = { ...cjs.policies.immediate() };
    const flow = esm
      .createFlow('two_copies')
      .add('fetch', fetcher)
      .add('collect', collector, { policy: cjs.policies.batch(10) })
      .add('other', collector, { policy: spread })
      .connect('fetch.output', 'collect.input')
      .entry('fetch', 'trigger');

    const mermaid = flow.toMermaid();
    expect(mermaid).toContain('policy: immediate"]');
    expect(mermaid).toContain('policy: batch(n: 10)');
    expect(mermaid).toContain('policy: immediate (custom)');
    expect(() => flow.toManifest()).toThrow(/routine 'other' has custom policy 'immediate', which has no manifest form/);
    const withoutSpread = esm.createFlow('two_copies').add('fetch', fetcher).add('collect', collector, { policy: cjs.policies.batch(10) }).connect('fetch.output', 'collect.input');
    expect(withoutSpread.toManifest().routines).toMatchObject({ fetch: { type: 'fetcher' }, collect: { type: 'collector', policy: { type: 'batch', n: 10 } } });
    expect(withoutSpread.toManifest().routines.fetch).not.toHaveProperty('policy.type', 'custom');
  });
});
