/**
 * Summarise a V8 CPU profile: self time by package/file and the top functions by self time.
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/chain-slotflow [--top 25]
 * (profiles come from `node --cpu-prof --cpu-prof-dir=bench/results/profiles --import tsx bench/run.ts --only chain`;
 * every measuring process writes into `<dir>/<workload>-<contender>/`; given a directory, the newest main-thread
 * profile in it is read: the tsx loader thread writes its own, which is not the one to read)
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

const [file] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const topIndex = process.argv.indexOf('--top');
const top = topIndex >= 0 ? Number(process.argv[topIndex + 1]) : 25;
if (file === undefined) {
  console.error('usage: node --import tsx bench/profile-summary.ts <file.cpuprofile> [--top N]');
  process.exit(2);
}

/** A directory: its newest main-thread profile (thread id 0: `CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile`). */
function pick(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const main = readdirSync(path)
    .filter((name) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(name))
    .map((name) => join(path, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (main[0] === undefined) throw new Error(`no main-thread .cpuprofile in ${path}`);
  return main[0];
}
const profilePath = pick(file);
const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as Profile;
const totalHits = profile.nodes.reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
const msPerHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, totalHits);

/** Where a frame belongs: a package, a file of slotflow's src/, node internals, or a V8 pseudo-frame. */
function area(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  const own = /\/((?:src|machines|bench)\/.*)$/.exec(url);
  if (own?.[1] !== undefined) return own[1];
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (hits === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const where = area(url, functionName);
  byArea.set(where, (byArea.get(where) ?? 0) + hits);
  const name = `${functionName || '(anonymous)'}  ${where}${url ? `:${lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
}

const pct = (hits: number): string => `${((hits / Math.max(1, totalHits)) * 100).toFixed(1).padStart(5)}%`;
const ms = (hits: number): string => `${(hits * msPerHit).toFixed(0).padStart(7)} ms`;
console.log(`${profilePath}: ${totalHits} samples, ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s\n`);
console.log('self time by area');
for (const [name, hits] of [...byArea].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(hits)} ${ms(hits)}  ${name}`);
console.log('\ntop functions by self time');
for (const [name, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(hits)} ${ms(hits)}  ${name}`);
