/**
 * serveCommand: `slotflow serve <manifest>`. Registers the manifest's flow in a runtime, serves the monitor and the
 * HTTP API (slotflow/server), and prints the URL. Ctrl-C (or SIGTERM) stops cleanly: the event streams end, the port
 * is freed, and running jobs are cancelled, or with `--store` saved as they are and resumed by the next `serve`.
 */
import { createFileStore, createRuntime, type FileStore } from 'slotflow';
import { messageOf } from './CliError.js';
import { loadManifestFlow } from './loadManifest.js';

export interface ServeOptions {
  readonly routines: string;
  readonly port: number;
  readonly host: string;
  readonly concurrency: number;
  readonly store?: string;
}

export async function serveCommand(manifest: string, options: ServeOptions): Promise<number> {
  const { stdout } = process;
  const flow = await loadManifestFlow(manifest, options.routines);
  const store: FileStore | undefined = options.store === undefined ? undefined : createFileStore(options.store);
  const runtime = createRuntime({ concurrency: options.concurrency, ...(store ? { store } : {}) });
  runtime.register(flow);
  // Loaded here: the HTTP framework is part of slotflow/server only.
  const { createServer } = await import('slotflow/server');
  const token = process.env.SLOTFLOW_TOKEN === undefined || process.env.SLOTFLOW_TOKEN === '' ? undefined : process.env.SLOTFLOW_TOKEN;
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    server = await createServer(runtime, { port: options.port, host: options.host, ...(token ? { token } : {}) });
  } catch (error) {
    await runtime.shutdown();
    await store?.close();
    throw error;
  }
  if (store) {
    const recovered = await runtime.recover();
    if (recovered.length > 0) stdout.write(`Resumed ${recovered.length} unfinished job${recovered.length === 1 ? '' : 's'} from ${options.store ?? ''}\n`);
    for (const { jobId, error } of recovered.skipped) stdout.write(`Left job ${jobId} in the store: ${messageOf(error)}\n`);
  }
  stdout.write(`slotflow monitor: ${server.url}  (flow '${flow.id}'${token ? '; API token from SLOTFLOW_TOKEN' : ''})\n`);
  stdout.write(`Ctrl-C stops${store ? `; unfinished jobs are saved to ${options.store ?? ''} and resume next time` : ' (running jobs are cancelled)'}.\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (name: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(name);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  stdout.write(`\n${signal === 'SIGINT' ? 'Interrupted' : 'Terminated'}: stopping the server${store ? ' and saving unfinished jobs' : ''}.\n`);
  await server.close();
  const open = runtime.listJobs({ status: ['queued', 'running', 'paused', 'idle'] }).length;
  await runtime.shutdown(store ? { suspend: true } : {});
  await store?.close();
  if (open > 0) stdout.write(`${open} unfinished job${open === 1 ? '' : 's'} ${store ? `saved to ${options.store ?? ''}` : 'cancelled'}.\n`);
  return 0;
}
