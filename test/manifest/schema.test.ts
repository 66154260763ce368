import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestJsonSchema } from 'slotflow/manifest';

describe('manifestJsonSchema', () => {
  it('matches the committed schema/manifest.schema.json (run `npm run gen:schema` after changing the schema)', () => {
    const committed = readFileSync(new URL('../../schema/manifest.schema.json', import.meta.url), 'utf8');
    expect(committed).toBe(`${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
  });

  it('describes the manifest fields, strictly', () => {
    const schema = manifestJsonSchema() as { $schema: string; properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(Object.keys(schema.properties)).toEqual(['$schema', 'id', 'defaults', 'routines', 'connections', 'entry', 'flows']);
    expect(schema.required).toEqual(['id', 'routines']);
    expect(schema.additionalProperties).toBe(false);
    expect(JSON.stringify(schema)).toContain('"enum":["immediate","allReady"]');
  });

  it('allows top-level x-* fields (YAML anchors), which loadFlow ignores', () => {
    const schema = manifestJsonSchema() as { patternProperties?: Record<string, unknown> };
    expect(Object.keys(schema.patternProperties ?? {})).toEqual(['^x-']);
  });
});
