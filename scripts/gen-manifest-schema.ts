/**
 * Writes schema/manifest.schema.json, the JSON Schema of flow manifests, from the zod schema `loadFlow` validates
 * with (src/manifest/manifestSchema.ts). Run after changing that schema: `npm run gen:schema`. A test fails while
 * the committed file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { manifestJsonSchema } from 'slotflow/manifest';

const target = new URL('../schema/manifest.schema.json', import.meta.url);
await writeFile(target, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
