/**
 * A loopback TCP proxy to put between a client and a server, so a test can cut the client off
 * (every open connection is reset and new ones are closed as soon as they arrive) and restore
 * it. With a short session timeout, a cut longer than the timeout makes ZooKeeper expire the
 * session: the way to test session expiry and outages with a real server. stall() is the nastier
 * outage (a dropped route, a dead NAT entry): connections stay open but nothing gets through, and
 * the stalled ones stay silent for good, so only a client that notices silence recovers.
 */
import { createServer, createConnection, type Socket } from 'node:net';

export interface TcpProxy {
  /** The loopback port clients connect to. */
  port: number;
  /** Resets every open connection and refuses new ones until restore(). */
  cut(): void;
  /** Silences every open connection for good (no reset) and holds new ones silent until restore(). */
  stall(): void;
  restore(): void;
  /** Connections accepted and forwarded so far (refused ones excluded). */
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const open = new Set<Socket>();
  let isCut = false;
  let isStalled = false;
  let forwarded = 0;
  const silence = (socket: Socket) => {
    socket.unpipe();
    socket.pause();
  };

  const server = createServer((client) => {
    if (isCut) {
      client.on('error', () => {});
      client.destroy();
      return;
    }
    if (isStalled) {
      open.add(client);
      client.on('error', () => {});
      client.on('close', () => open.delete(client));
      silence(client);
      return;
    }
    forwarded++;
    const upstream = createConnection({ host, port: target.port });
    for (const [socket, peer] of [[client, upstream], [upstream, client]] as const) {
      open.add(socket);
      socket.setNoDelay(true);
      socket.on('error', () => peer.destroy());
      socket.on('close', () => {
        open.delete(socket);
        peer.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('tcp proxy: no listening address');

  const resetAll = () => {
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
  };

  return {
    port: address.port,
    cut: () => {
      isCut = true;
      resetAll();
    },
    stall: () => {
      isStalled = true;
      for (const socket of open) silence(socket);
    },
    restore: () => {
      isCut = false;
      isStalled = false;
    },
    connections: () => forwarded,
    close: async () => {
      resetAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
