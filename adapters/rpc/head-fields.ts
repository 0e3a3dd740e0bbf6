/**
 * The layout of `msec.rpc.RpcHead` (schemas/rpc.proto) as the frame codec needs it: the JS
 * shapes of a head and each field's tag, read from rpc.proto at load time so the .proto
 * stays the source of truth. The codec itself (head-writer.ts, head-reader.ts) writes and
 * reads protobuf directly: protobufjs' generated code spends more on Long objects, writer
 * ops and copies than the rest of a call costs, and every call pays it twice.
 * tests/unit/rpc/head-codec.test.ts checks the codec against protobufjs byte for byte.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';

/** A decoded head. Absent fields have their protobuf defaults ('0' for 64-bit ids). */
export interface FrameHead {
  sequence: string;
  coloring: number;
  colorId: string;
  flowId: string;
  err: number;
  result: number;
  errMsg: string;
  caller: string;
  methodName: string;
  /** Frozen and shared when empty: copy it before adding to it. */
  callerStack: string[];
  deadlineMs: number;
}

/** What a sender fills in; 64-bit fields take a safe integer or a decimal string. */
export interface FrameHeadInit {
  sequence: number | string;
  coloring?: number;
  colorId?: number | string;
  flowId?: number | string;
  err?: number;
  result?: number;
  errMsg?: string;
  caller?: string;
  methodName?: string;
  callerStack?: readonly string[];
  deadlineMs?: number;
}

const rpcProto = fileURLToPath(new URL('../../schemas/rpc.proto', import.meta.url));
export const RpcHeadType = protobuf.loadSync(rpcProto).lookupType('msec.rpc.RpcHead');

const fieldId = (name: string, type: string) => {
  const field = RpcHeadType.fields[name];
  if (!field || field.type !== type) throw new Error(`schemas/rpc.proto: RpcHead.${name} is no longer a ${type}; update adapters/rpc/head-writer.ts and head-reader.ts with it`);
  return field.id;
};
const varint = 0;
const bytes = 2;
const F = {
  sequence: fieldId('sequence', 'uint64'),
  coloring: fieldId('coloring', 'uint32'),
  colorId: fieldId('colorId', 'uint64'),
  flowId: fieldId('flowId', 'uint64'),
  err: fieldId('err', 'int32'),
  result: fieldId('result', 'int32'),
  errMsg: fieldId('errMsg', 'string'),
  caller: fieldId('caller', 'string'),
  methodName: fieldId('methodName', 'string'),
  callerStack: fieldId('callerStack', 'string'),
  deadlineMs: fieldId('deadlineMs', 'uint32'),
};
const tag = (id: number, wire: number) => (id << 3) | wire;
/** Each field's tag (field number and wire type), as it starts the field on the wire. */
export const T = {
  sequence: tag(F.sequence, varint), coloring: tag(F.coloring, varint), colorId: tag(F.colorId, varint), flowId: tag(F.flowId, varint),
  err: tag(F.err, varint), result: tag(F.result, varint), errMsg: tag(F.errMsg, bytes), caller: tag(F.caller, bytes),
  methodName: tag(F.methodName, bytes), callerStack: tag(F.callerStack, bytes), deadlineMs: tag(F.deadlineMs, varint),
};

export function varint32Size(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of each field's tag. */
export const S = Object.fromEntries(Object.entries(T).map(([name, t]) => [name, varint32Size(t)])) as Record<keyof typeof T, number>;
