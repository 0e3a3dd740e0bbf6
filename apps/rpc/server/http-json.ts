/**
 * HTTP/JSON on the service's TCP port (rpc-wire.md): `POST /pkg.Svc.Method` or MSEC's
 * `POST /?methodName=pkg.Svc.Method`, the request message as JSON, answered with MSEC's
 * `{"ret","errmsg","result","resultObj"}`. The server is never listened on itself: the TCP
 * listener hands it the connections whose first byte is not '('.
 */
import http from 'node:http';
import { RpcErrorCode } from '../contracts.ts';
import type { Dispatcher, Outcome } from './dispatcher.ts';

export interface HttpJsonOptions {
  dispatcher: Dispatcher;
  maxBodyBytes: number;
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

function methodNameOf(url: string): string {
  const parsed = new URL(url, 'http://service');
  return parsed.searchParams.get('methodName') || decodeURIComponent(parsed.pathname.slice(1));
}

export function createHttpJsonServer(options: HttpJsonOptions): http.Server {
  const { dispatcher, maxBodyBytes } = options;
  return http.createServer((req, res) => {
    if (req.method !== 'POST') {
      send(res, 405, RpcErrorCode.BAD_REQUEST, `${req.method} is not served; POST the request as JSON to /package.Service.Method`, { allow: 'POST' });
      req.resume();
      return;
    }
    let method: string;
    try {
      method = methodNameOf(req.url ?? '/');
    } catch {
      method = '';
    }
    if (method === '') {
      send(res, 404, RpcErrorCode.METHOD_NOT_FOUND, 'no method name: POST to /package.Service.Method or /?methodName=package.Service.Method');
      req.resume();
      return;
    }
    const meta = headerMeta(req);
    if (typeof meta === 'string') {
      send(res, 400, RpcErrorCode.BAD_REQUEST, meta);
      req.resume();
      return;
    }

    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        send(res, 413, RpcErrorCode.BAD_REQUEST, `the body is over ${maxBodyBytes} bytes; send smaller requests`, { connection: 'close' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) return;
      const text = Buffer.concat(chunks, size).toString('utf8');
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
        instance: { ip: (socket.localAddress ?? '').replace(/^::ffff:/, ''), port: socket.localPort ?? 0 },
        answer(outcome: Outcome) {
          send(res, 200, outcome.err, outcome.errMsg, { 'x-msec-request-id': outcome.requestId }, outcome.json, outcome.result);
        },
      });
    });
  });
}
