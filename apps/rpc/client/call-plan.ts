/**
 * What one call carries and how long it may take: the request metadata (new, or propagated
 * from the call being served) and the deadline, which only shrinks across hops.
 */
import { newRequestId } from '../request-ids.ts';
import type { CallMeta, CallOptions } from '../contracts.ts';

/** MSEC's default call timeout (CallMethod's 800 ms). */
export const defaultTimeoutMs = 800;

export interface CallPlan {
  meta: CallMeta;
  /** Epoch ms after which the call has failed. */
  deadline: number;
}

export { newRequestId };

/**
 * Without a parent: a new request id, no coloring, the client's name as caller. With one:
 * the parent's request id and coloring, the parent's service as caller, the parent's caller
 * appended to the stack, and a budget of min(timeoutMs, what the parent has left).
 */
export function planCall(options: CallOptions, clientName: string, now: number): CallPlan {
  const timeout = Math.max(0, options.timeoutMs ?? defaultTimeoutMs);
  const parent = options.parent;
  if (!parent) {
    return { meta: { requestId: newRequestId(), coloring: 0, colorId: '0', caller: clientName, callerStack: [] }, deadline: now + timeout };
  }
  return {
    meta: {
      requestId: parent.requestId || newRequestId(),
      coloring: parent.coloring,
      colorId: parent.colorId,
      caller: parent.service,
      callerStack: parent.caller ? [...parent.callerStack, parent.caller] : [...parent.callerStack],
    },
    deadline: Math.min(now + timeout, parent.deadline),
  };
}
