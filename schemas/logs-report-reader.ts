/**
 * Reads a msec.reports.logs message (LogsReport of schemas/reports.proto) straight from its
 * bytes. The logs sink decodes every record that reaches the views, and protobufjs'
 * reflective decoder plus toObject() took 5 µs a record (its UTF-8 reader and Long objects),
 * half the ingest's time; this reader takes strings with Buffer's native decoder. Same answer
 * as decodeReport('msec.reports.logs', …) for every well-formed message
 * (tests/unit/logs/logs-report-reader.test.ts compares them); malformed bytes throw.
 * Field numbers are read from reports.proto at load time, so the .proto stays the truth.
 */
import protobuf from 'protobufjs';
import { fileURLToPath } from 'node:url';
import type { LogRecord, LogsReport } from './reports.ts';

const root = protobuf.loadSync(fileURLToPath(new URL('./reports.proto', import.meta.url)));
const field = (type: string, name: string, kind: string) => {
  const f = root.lookupType(`msec.reports.${type}`).fields[name];
  if (!f || f.type !== kind) throw new Error(`schemas/reports.proto: ${type}.${name} is no longer a ${kind}; update schemas/logs-report-reader.ts`);
  return f.id;
};
const R = { reporter: field('LogsReport', 'reporter', 'string'), records: field('LogsReport', 'records', 'LogRecord'), dropped: field('LogsReport', 'droppedRecords', 'uint64') };
const L = {
  timeMs: field('LogRecord', 'timeMs', 'int64'), level: field('LogRecord', 'level', 'uint32'), service: field('LogRecord', 'service', 'string'),
  requestId: field('LogRecord', 'requestId', 'string'), clientIp: field('LogRecord', 'clientIp', 'string'), serverIp: field('LogRecord', 'serverIp', 'string'),
  rpcName: field('LogRecord', 'rpcName', 'string'), caller: field('LogRecord', 'caller', 'string'), coloring: field('LogRecord', 'coloring', 'uint32'),
  message: field('LogRecord', 'message', 'string'), fieldNames: field('LogRecord', 'fieldNames', 'string'), fieldValues: field('LogRecord', 'fieldValues', 'string'),
};

class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, readonly end: number) {
    this.pos = start;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError('a varint runs past the end of the message');
    return this.buf[this.pos++]!;
  }

  /**
   * A 64-bit varint as protobufjs' Long.toNumber() gives it: high 32 bits × 2^32 + low 32
   * bits, the high ones signed for int64 and unsigned for uint64.
   */
  long(unsigned: boolean): number {
    let lo = 0;
    let hi = 0;
    let b = 0;
    let done = false;
    for (let i = 0; i < 4 && !done; i++) {
      b = this.byte();
      lo = (lo | ((b & 0x7f) << (i * 7))) >>> 0;
      done = b < 0x80;
    }
    if (!done) {
      b = this.byte();
      lo = (lo | ((b & 0x7f) << 28)) >>> 0;
      hi = (b & 0x7f) >> 4;
      done = b < 0x80;
      for (let i = 0; i < 5 && !done; i++) {
        b = this.byte();
        hi = (hi | ((b & 0x7f) << (i * 7 + 3))) >>> 0;
        done = b < 0x80;
      }
      if (!done) throw new RangeError('a varint is longer than 10 bytes');
    }
    return (unsigned ? hi >>> 0 : hi | 0) * 4294967296 + lo;
  }

  /** A varint whose value is not kept (an unknown field). */
  varint(): void {
    this.long(true);
  }

  /** The low 32 bits, unsigned (protobuf's uint32 of any varint, however long). */
  uint32(): number {
    let result = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new RangeError('a varint runs past the end of the message');
      const b = this.buf[this.pos++]!;
      if (i < 5) result |= (b & 0x7f) << (7 * i);
      if (b < 0x80) return result >>> 0;
    }
    throw new RangeError('a varint is longer than 10 bytes');
  }

  length(): number {
    const n = this.uint32();
    if (n > this.end - this.pos) throw new RangeError(`a field of ${n} bytes runs past the end of the message`);
    return n;
  }

  string(): string {
    const n = this.length();
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  skip(wire: number): void {
    switch (wire) {
      case 0: this.varint(); return;
      case 1: this.pos += 8; break;
      case 2: {
        const n = this.length(); // read before `pos` is: `pos += length()` would add to the old pos
        this.pos += n;
        return;
      }
      case 5: this.pos += 4; break;
      default: throw new RangeError(`wire type ${wire} is not protobuf 3`);
    }
    if (this.pos > this.end) throw new RangeError('a field runs past the end of the message');
  }
}

function expect(wire: number, want: number, name: string): void {
  if (wire !== want) throw new RangeError(`${name} has wire type ${wire}, not ${want}`);
}

function record(r: Reader): LogRecord {
  const out: LogRecord = {
    timeMs: 0, level: 0, service: '', requestId: '', clientIp: '', serverIp: '', rpcName: '', caller: '', coloring: 0, message: '', fieldNames: [], fieldValues: [],
  };
  while (r.pos < r.end) {
    const key = r.uint32();
    const id = key >>> 3;
    const wire = key & 7;
    switch (id) {
      case L.timeMs: expect(wire, 0, 'time_ms'); out.timeMs = r.long(false); break;
      case L.level: expect(wire, 0, 'level'); out.level = r.uint32(); break;
      case L.coloring: expect(wire, 0, 'coloring'); out.coloring = r.uint32(); break;
      case L.service: expect(wire, 2, 'service'); out.service = r.string(); break;
      case L.requestId: expect(wire, 2, 'request_id'); out.requestId = r.string(); break;
      case L.clientIp: expect(wire, 2, 'client_ip'); out.clientIp = r.string(); break;
      case L.serverIp: expect(wire, 2, 'server_ip'); out.serverIp = r.string(); break;
      case L.rpcName: expect(wire, 2, 'rpc_name'); out.rpcName = r.string(); break;
      case L.caller: expect(wire, 2, 'caller'); out.caller = r.string(); break;
      case L.message: expect(wire, 2, 'message'); out.message = r.string(); break;
      case L.fieldNames: expect(wire, 2, 'field_names'); out.fieldNames.push(r.string()); break;
      case L.fieldValues: expect(wire, 2, 'field_values'); out.fieldValues.push(r.string()); break;
      default: r.skip(wire);
    }
  }
  return out;
}

/** A LogsReport from its bytes; throws RangeError for bytes that are not one. */
export function readLogsReport(bytes: Uint8Array): LogsReport {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new Reader(buf, 0, buf.length);
  const report: LogsReport = { reporter: '', records: [], droppedRecords: 0 };
  while (r.pos < r.end) {
    const key = r.uint32();
    const id = key >>> 3;
    const wire = key & 7;
    switch (id) {
      case R.reporter: expect(wire, 2, 'reporter'); report.reporter = r.string(); break;
      case R.dropped: expect(wire, 0, 'dropped_records'); report.droppedRecords = r.long(true); break;
      case R.records: {
        expect(wire, 2, 'records');
        const n = r.length();
        report.records.push(record(new Reader(buf, r.pos, r.pos + n)));
        r.pos += n;
        break;
      }
      default: r.skip(wire);
    }
  }
  return report;
}
