/**
 * parseManifestText: a manifest's YAML (or JSON) text as data. YAML merge keys (`<<: *defaults`) are read, with
 * their anchors kept in top-level `x-*` fields, which `loadFlow` ignores.
 */
import { ManifestError } from 'slotflow';
import { LineCounter, parseDocument } from 'yaml';

/** The data of a YAML or JSON document; throws `ManifestError` for a syntax error (with line and column), a bad merge, or an alias bomb. */
export function parseManifestText(text: string, source: string | undefined): unknown {
  const lineCounter = new LineCounter();
  let document: ReturnType<typeof parseDocument>;
  try {
    document = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  } catch (error) {
    throw new ManifestError([{ path: '', message: `YAML document cannot be read: ${tooDeepOr(error)}` }], source);
  }
  if (document.errors.length > 0) {
    // A document nested past the parser's stack fails at every level: one problem says it.
    const overflow = document.errors.find((error) => isStackOverflow(error.message));
    const errors = overflow ? [overflow] : document.errors;
    throw new ManifestError(
      errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return { path: '', message: `YAML syntax error at line ${line}, column ${col}: ${isStackOverflow(error.message) ? TOO_DEEP : error.message}` };
      }),
      source,
    );
  }
  try {
    // Converting can fail on a well-formed document: aliases that expand past yaml's limit (a "billion laughs"
    // document), or a merge key whose source is not a mapping.
    return document.toJS();
  } catch (error) {
    throw new ManifestError([{ path: '', message: `YAML document cannot be read: ${tooDeepOr(error)}` }], source);
  }
}

const TOO_DEEP = 'the document is nested too deeply to read (a flow manifest needs only a few levels)';
const isStackOverflow = (message: string) => /maximum call stack/i.test(message);
const tooDeepOr = (error: unknown) => (error instanceof RangeError && isStackOverflow(error.message) ? TOO_DEEP : error instanceof Error ? error.message : String(error));
