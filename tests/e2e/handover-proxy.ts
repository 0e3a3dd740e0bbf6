/**
 * A man in the middle of the embedded hand-over: it forwards an agent's requests to the
 * console and adds commands of its own choosing to the long-poll answers. Whoever controls
 * the network between agent and console can do this; the agent must not care.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class HandoverProxy {
  private readonly injected: Buffer[] = [];
  /** While held, the console's commands are kept from the agent: its polls get injections only. */
  held = false;
  readonly url: string;

  private constructor(private readonly server: Server) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(consoleUrl: string): Promise<HandoverProxy> {
    const holder: { proxy?: HandoverProxy } = {};
    const server = createServer((req, res) => {
      const proxy = holder.proxy;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        try {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
          const body = chunks.length ? Buffer.concat(chunks) : undefined;
          const isPoll = req.method === 'GET' && (req.url ?? '').startsWith('/api/agent/commands');
          // While something waits to be injected, answer the poll at once instead of long-polling.
          const url = isPoll && proxy!.injected.length ? (req.url ?? '').replace(/wait=\d+/, 'wait=0') : req.url ?? '/';
          // The signature covers the URL: an altered one is refused by the console, so a poll with
          // injections pending is answered by the proxy alone.
          if (isPoll && proxy!.held && !proxy!.injected.length) await new Promise((r) => setTimeout(r, 200));
          if (isPoll && (url !== req.url || proxy!.held)) {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ commands: proxy!.injected.splice(0).map((b) => b.toString('base64')) }));
            return;
          }
          const answer = await fetch(`${consoleUrl}${url}`, { method: req.method, headers, body });
          const bytes = Buffer.from(await answer.arrayBuffer());
          const out: Record<string, string> = {};
          answer.headers.forEach((v, k) => {
            if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v;
          });
          if (isPoll && answer.ok && (proxy!.injected.length || proxy!.held)) {
            const page = JSON.parse(bytes.toString('utf8')) as { commands: string[] };
            // Held: a poll that was already waiting at the console loses the real commands (the agent asks again).
            if (proxy!.held) page.commands = [];
            page.commands.push(...proxy!.injected.splice(0).map((b) => b.toString('base64')));
            res.writeHead(200, out);
            res.end(JSON.stringify(page));
            return;
          }
          res.writeHead(answer.status, out);
          res.end(bytes);
        } catch (err) {
          res.writeHead(502);
          res.end(String(err));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.proxy = new HandoverProxy(server);
    return holder.proxy;
  }

  /** Commands handed to the agent with its next poll. */
  inject(...commands: Uint8Array[]): void {
    this.injected.push(...commands.map((c) => Buffer.from(c)));
  }

  get pending(): number {
    return this.injected.length;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
