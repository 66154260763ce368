/**
 * What the commands load on demand (the runtime, the manifest loader): see program.ts.
 */
export { loadManifestFlow, sketchManifestFlow } from './loadManifest.js';
export { runCommand } from './runCommand.js';
export { serveCommand } from './serveCommand.js';
