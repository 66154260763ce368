/**
 * A throw-away redis-server for tests: on a free loopback port, no persistence, counted as started only once
 * `INFO server` reports our own process id (a stranger may have taken the port meanwhile).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** A port the kernel just gave us (free now; redis binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  });
}

function ownPid(port: number): number | undefined {
  try {
    const info = execFileSync('redis-cli', ['-p', String(port), 'info', 'server'], { encoding: 'utf8', timeout: 2_000, stdio: ['ignore', 'pipe', 'ignore'] });
    const match = /process_id:(\d+)/.exec(info);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function startRedis(attempts = 5): Promise<RedisServer> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'slotflow-redis-'));
    const child: ChildProcess = spawn(
      'redis-server',
      ['--bind', '127.0.0.1', '--port', String(port), '--protected-mode', 'yes', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--logfile', join(dir, 'redis.log'), '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    let exited = false;
    child.on('exit', () => {
      exited = true;
    });
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the exit listener
    for (let i = 0; i < 100 && !exited; i++) {
      if (ownPid(port) === child.pid) {
        return {
          port,
          url: `redis://127.0.0.1:${port}`,
          async stop() {
            if (!exited) {
              const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
              child.kill('SIGTERM');
              await Promise.race([gone, sleep(5_000)]);
              // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- set by the exit listener
              if (!exited) child.kill('SIGKILL');
            }
            rmSync(dir, { recursive: true, force: true });
          },
        };
      }
      await sleep(50);
    }
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error('could not start redis-server on a free port');
}
