/**
 * parseManifestText: a manifest's YAML (or JSON) text as data. YAML merge keys (`<<: *defaults`) are read, with
 * their anchors kept in top-level `x-*` fields, which `loadFlow` ignores.
 */
import { ManifestError } from 'slotflow';
import { LineCounter, parseDocument } from 'yaml';

/** The data of a YAML or JSON document; throws `ManifestError` for a syntax error (with line and column), a bad merge, or an alias bomb. */
export function parseManifestText(text: string, source: string | undefined): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  if (document.errors.length > 0) {
    throw new ManifestError(
      document.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { path: '', message: `YAML syntax error at line ${line}, column ${col}: ${error.message}` };
      }),
      source,
    );
  }
  try {
    // Converting can fail on a well-formed document: aliases that expand past yaml's limit (a "billion laughs"
    // document), or a merge key whose source is not a mapping.
    return document.toJS();
  } catch (error) {
    throw new ManifestError([{ path: '', message: `YAML document cannot be read: ${error instanceof Error ? error.message : String(error)}` }], source);
  }
}
