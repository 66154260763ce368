import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Contender } from '../lib/types.js';
import { loadLangGraph, loadMastra } from './peers.js';
import { plain } from './plain.js';
import { loadSlotflow } from './slotflow.js';
import { rawXstate } from './xstate.js';
import { xstateFloor } from './xstateFloor.js';

/**
 * Contender keys in table order: the floor first (every ratio is against it), then the subject. The variants
 * (slotflow with metrics off, with `runtime.events$` observed, or slotflow/server over 1,000 running jobs with a
 * monitor page open, or with a stream of every event) run only when named in `--contenders`.
 */
export const CONTENDER_KEYS = ['plain', 'slotflow', 'xstate', 'xstate-floor', 'langgraph', 'mastra', 'slotflow-nometrics', 'slotflow-observed', 'slotflow-monitor-base', 'slotflow-monitor', 'slotflow-monitor-all'] as const;
export type ContenderKey = (typeof CONTENDER_KEYS)[number];

/** What runs when `--contenders` is not given. */
export const DEFAULT_CONTENDERS: readonly ContenderKey[] = ['plain', 'slotflow', 'xstate', 'xstate-floor', 'langgraph', 'mastra'];

export const PEER_KEYS: readonly ContenderKey[] = ['langgraph', 'mastra'];

const benchModules = fileURLToPath(new URL('../node_modules/', import.meta.url));

/** Why peers cannot be loaded at all, or undefined when bench/node_modules holds them. */
export function peersMissing(): string | undefined {
  const missing = ['@langchain/langgraph', '@mastra/core'].filter((pkg) => !existsSync(`${benchModules}${pkg}/package.json`));
  return missing.length ? `bench/node_modules lacks ${missing.join(', ')}: run \`cd bench && npm install\`` : undefined;
}

/** Loads a contender; throws with the reason when it cannot run here. */
export async function loadContender(key: ContenderKey): Promise<Contender> {
  switch (key) {
    case 'plain':
      return plain;
    case 'xstate':
      return rawXstate;
    case 'xstate-floor':
      return xstateFloor;
    case 'slotflow':
      return loadSlotflow();
    case 'slotflow-nometrics':
      return loadSlotflow({ name: DISPLAY_NAMES[key], metrics: false });
    case 'slotflow-observed':
      return loadSlotflow({ name: DISPLAY_NAMES[key], observed: true });
    case 'slotflow-monitor-base':
      return loadSlotflow({ name: DISPLAY_NAMES[key], monitor: 'none' });
    case 'slotflow-monitor':
      return loadSlotflow({ name: DISPLAY_NAMES[key], monitor: 'page' });
    case 'slotflow-monitor-all':
      return loadSlotflow({ name: DISPLAY_NAMES[key], monitor: 'all' });
    case 'langgraph':
    case 'mastra': {
      const missing = peersMissing();
      if (missing !== undefined) throw new Error(missing);
      return key === 'langgraph' ? loadLangGraph() : loadMastra();
    }
  }
}

export const DISPLAY_NAMES: Record<ContenderKey, string> = {
  plain: 'plain async',
  slotflow: 'slotflow',
  xstate: 'raw XState',
  'xstate-floor': 'XState floor',
  langgraph: 'LangGraph.js',
  mastra: 'Mastra',
  'slotflow-nometrics': 'slotflow, metrics off',
  'slotflow-observed': 'slotflow, events$ observed',
  'slotflow-monitor-base': 'slotflow, 1,000 jobs waiting',
  'slotflow-monitor': 'slotflow, monitor page open',
  'slotflow-monitor-all': 'slotflow, every event streamed',
};
