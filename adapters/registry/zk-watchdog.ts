/**
 * What node-zookeeper-client lacks and the Java client has: a read timeout. Without it a
 * connection that goes silent hangs the client for good — seen when a restarting server took
 * the TCP connection but never answered the handshake (the client sat in CONNECTING forever),
 * and the same happens on a silent network partition. The server answers the client's pings
 * (sent every third of the session timeout), so a connection quiet for two thirds of it is dead:
 * destroying the socket makes the client reconnect (and learn whether its session survived).
 */
import type { Socket } from 'node:net';
import type { Client } from 'node-zookeeper-client';

interface ManagerInternals {
  state: number;
  socket?: Socket;
  /** Negotiated (or requested) session timeout, ms. */
  sessionTimeout: number;
}

const connecting = 1;
const connected = 2;
const tickMs = 100;

/** Starts watching the client's connection; returns the function that stops it. */
export function watchConnection(client: Client): () => void {
  const manager = (client as unknown as { connectionManager: ManagerInternals }).connectionManager;
  let socket: Socket | undefined;
  let heardAt = Date.now();
  const heard = () => (heardAt = Date.now());
  const timer = setInterval(() => {
    const current = manager.socket;
    if (current !== socket) {
      socket?.off('data', heard).off('connect', heard);
      socket = current;
      socket?.on('data', heard).on('connect', heard);
      heard();
    }
    if (!socket || socket.destroyed || socket.connecting) return;
    const waitingForHandshake = manager.state === connecting;
    const live = manager.state === connected;
    if ((waitingForHandshake || live) && Date.now() - heardAt > (manager.sessionTimeout * 2) / 3) socket.destroy();
  }, tickMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    socket?.off('data', heard).off('connect', heard);
  };
}
