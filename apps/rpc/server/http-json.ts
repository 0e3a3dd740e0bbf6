/**
 * HTTP/JSON on the service's TCP port (rpc-wire.md): `POST /pkg.Svc.Method` or MSEC's
 * `POST /?methodName=pkg.Svc.Method`, the request message as JSON, answered with MSEC's
 * `{"ret","errmsg","result","resultObj"}`. The server is never listened on itself: the TCP
 * listener hands it the connections whose first byte is not '('.
 *
 * A web page must not be able to call a service through its visitor's browser: requests are
 * `Content-Type: application/json` (which a page can only send cross-site after a CORS
 * preflight, never answered here), and a cross-site `Origin` or `Sec-Fetch-Site` is refused
 * before anything runs. Programs send neither header and are not affected.
 */
import http from 'node:http';
import { RpcErrorCode } from '../contracts.ts';
import type { Dispatcher, Outcome } from './dispatcher.ts';
import type { BufferBudget } from './buffer-budget.ts';
import type { PortLimits } from './settings.ts';
import { maxTimerMs } from '../../../adapters/rpc/call-frames.ts';

export interface HttpJsonOptions {
  dispatcher: Dispatcher;
  limits: PortLimits;
  /** Request bodies being read count here, with the port's unfinished frames. */
  budget: BufferBudget;
}

const decimalId = /^[0-9]{1,20}$/;

function send(res: http.ServerResponse, status: number, ret: number, errmsg: string, extra: Record<string, string> = {}, resultObj: unknown = null, result = 0): void {
  if (res.headersSent || res.destroyed) return;
  const body = JSON.stringify({ ret, errmsg, result, resultObj });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

interface HeaderMeta {
  requestId: string;
  caller: string;
  coloring: number;
  deadlineMs: number;
}

/** The optional x-msec-* headers, or a problem to answer with 400. */
function headerMeta(req: http.IncomingMessage): HeaderMeta | string {
  const one = (name: string) => {
    const value = req.headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const requestId = one('x-msec-request-id') ?? '';
  if (requestId !== '' && (!decimalId.test(requestId) || BigInt(requestId) > 0xffffffffffffffffn)) {
    return `x-msec-request-id "${requestId}" must be an unsigned 64-bit decimal number`;
  }
  const deadline = one('x-msec-deadline-ms') ?? '';
  if (deadline !== '' && !/^[0-9]{1,10}$/.test(deadline)) return `x-msec-deadline-ms "${deadline}" must be a whole number of milliseconds`;
  return {
    requestId,
    caller: one('x-msec-caller') ?? 'http',
    coloring: one('x-msec-coloring') === '1' ? 1 : 0,
    deadlineMs: deadline === '' ? 0 : Math.min(Number(deadline), 0xffffffff),
  };
}

/** Why a browser request from another site is refused, or null for same-origin and non-browser requests. */
function crossSite(req: http.IncomingMessage): string | null {
  const fetchSite = req.headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return `a ${fetchSite} browser request (Sec-Fetch-Site) is refused: call the service from a program or from its own origin`;
  }
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  let same = false;
  try {
    const from = new URL(origin);
    same = from.protocol === 'http:' && from.host === new URL(`http://${req.headers.host ?? ''}`).host;
  } catch {
    same = false;
  }
  return same ? null : `a browser request from ${origin} (Origin) is refused: call the service from a program or from its own origin`;
}

const isJson = (type: string | undefined) => type !== undefined && /^application\/json\s*(;|$)/i.test(type.trim());

function methodNameOf(url: string): string {
  const parsed = new URL(url, 'http://service');
  return parsed.searchParams.get('methodName') || decodeURIComponent(parsed.pathname.slice(1));
}

export function createHttpJsonServer(options: HttpJsonOptions): http.Server {
  const { dispatcher, limits, budget } = options;
  const maxBodyBytes = limits.maxFrameBytes;
  const readTimeoutMs = Math.min(limits.readTimeoutMs, maxTimerMs);
  const server = http.createServer({
    // Headers and body must arrive within read_timeout (a slow sender cannot hold a connection).
    headersTimeout: readTimeoutMs, requestTimeout: readTimeoutMs,
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(readTimeoutMs / 4))),
  }, (req, res) => {
    const refuse = (status: number, ret: number, errmsg: string, extra: Record<string, string> = {}) => {
      send(res, status, ret, errmsg, extra);
      req.resume();
    };
    if (req.method !== 'POST') return refuse(405, RpcErrorCode.BAD_REQUEST, `${req.method} is not served; POST the request as JSON to /package.Service.Method`, { allow: 'POST' });
    const foreign = crossSite(req);
    if (foreign !== null) return refuse(403, RpcErrorCode.BAD_REQUEST, foreign);
    const type = req.headers['content-type'];
    if (!isJson(type)) {
      return refuse(415, RpcErrorCode.BAD_REQUEST, `Content-Type ${type === undefined ? 'is missing' : `"${type}" is not served`}; send the request message as JSON with Content-Type: application/json`);
    }
    let method: string;
    try {
      method = methodNameOf(req.url ?? '/');
    } catch {
      method = '';
    }
    if (method === '') return refuse(404, RpcErrorCode.METHOD_NOT_FOUND, 'no method name: POST to /package.Service.Method or /?methodName=package.Service.Method');
    const meta = headerMeta(req);
    if (typeof meta === 'string') return refuse(400, RpcErrorCode.BAD_REQUEST, meta);
    const tooLarge = () => send(res, 413, RpcErrorCode.BAD_REQUEST, `the body is over ${maxBodyBytes} bytes (max_frame_bytes); send smaller requests`, { connection: 'close' });
    if (Number(req.headers['content-length']) > maxBodyBytes) {
      tooLarge();
      req.destroy();
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const release = () => {
      budget.resize(size, 0);
      size = 0;
    };
    req.on('close', release);
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      if (size + chunk.length > maxBodyBytes) {
        refused = true;
        release();
        tooLarge();
        return;
      }
      if (!budget.resize(size, size + chunk.length)) {
        refused = true;
        release();
        send(res, 503, RpcErrorCode.OVERLOADED, `the server holds ${budget.bytes} bytes of unfinished requests (max_buffered_bytes ${budget.limit}) and did not read this one; try again or call another instance`,
          { connection: 'close', 'retry-after': '1' });
        return;
      }
      size += chunk.length;
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const text = Buffer.concat(chunks, size).toString('utf8');
      release();
      let json: unknown;
      try {
        json = text.trim() === '' ? {} : JSON.parse(text);
      } catch (error) {
        send(res, 400, RpcErrorCode.BAD_REQUEST, `the body is not JSON (${(error as Error).message}); send the request message as a JSON object`);
        return;
      }
      const socket = req.socket;
      dispatcher.dispatch({
        method, body: null, json,
        requestId: meta.requestId, coloring: meta.coloring, colorId: '0', caller: meta.caller, callerStack: [], deadlineMs: meta.deadlineMs,
        instance: { ip: (socket.localAddress ?? '').replace(/^::ffff:/, ''), port: socket.localPort ?? 0 }, brief: false,
        peer: socket.remoteAddress?.replace(/^::ffff:/, ''),
        answer(outcome: Outcome) {
          send(res, 200, outcome.err, outcome.errMsg, { 'x-msec-request-id': outcome.requestId }, outcome.json, outcome.result);
        },
      });
    });
  });
  // A silent connection is closed after idle_timeout, as a frame connection is.
  server.timeout = Math.min(limits.idleTimeoutMs, maxTimerMs);
  // Node checks headersTimeout and requestTimeout only on a server that emitted 'listening';
  // this one never listens (the TCP listener hands it its connections), so it says it does.
  server.emit('listening');
  return server;
}
