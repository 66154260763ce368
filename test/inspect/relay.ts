/**
 * A loopback relay for the Stately inspector (`createInspectorServer` from `@statelyai/inspect/server`) on a free
 * port, that can be closed for good.
 *
 * The package's `stop()` closes the listening socket but leaves connected clients open (ws 8 no longer closes
 * them), and `createWebSocketReceiver` exposes no way to close its socket, so either would keep the process alive.
 * The relay's accepted sockets are tracked through Node's `net.server.socket` diagnostics channel and destroyed on
 * `close()`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { connect, createServer, type Socket } from 'node:net';
import { createInspectorServer } from '@statelyai/inspect/server';

export interface Relay {
  readonly port: number;
  /** `ws://localhost:<port>`: the url for `createWebSocketInspector` and `createWebSocketReceiver`. */
  readonly url: string;
  /** Stops the relay and ends every connection it accepted. */
  close(): Promise<void>;
}

/** A port nobody listens on now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * Resolves once something accepts connections on `port` (the relay listens a tick after it is created, and exposes
 * no event for it). Retries every 20 ms for up to 30 s: on an idle machine the first or second try connects; the
 * budget is for a loaded one, where a too-tight limit failed a test that was not broken.
 */
async function listening(port: number, attempts = 1_500): Promise<void> {
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, 'localhost');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => {
        resolve(false);
      });
    });
    if (ok) return;
    if (i >= attempts) throw new Error(`the inspector relay did not listen on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function startRelay(): Promise<Relay> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  const track = (message: unknown) => {
    const { socket } = message as { socket: Socket };
    if (socket.localPort !== port) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  subscribe('net.server.socket', track);
  const server = createInspectorServer({ port, autoOpen: false });
  await listening(port);
  return {
    port,
    url: `ws://localhost:${port}`,
    async close() {
      server.stop();
      const closed = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
      unsubscribe('net.server.socket', track);
    },
  };
}
