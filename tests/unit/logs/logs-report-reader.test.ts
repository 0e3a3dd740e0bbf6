/** The hand-written LogsReport reader answers what protobufjs answers, and throws on what is not a report. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { readLogsReport } from '../../../schemas/logs-report-reader.ts';
import { decodeReport, encodeReport, type LogRecord } from '../../../schemas/reports.ts';
import { seededRandom } from '../support/seeded-random.ts';

const random = seededRandom(12);
const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
const text = () => Array.from({ length: Math.floor(random() * 40) }, () => pick(['a', 'Z', ' ', '\n', '\u0000', 'é', '漢', '😀', "'", '\\', '\u001b'])).join('');

function randomRecord(): LogRecord {
  const fields = Math.floor(random() * 4);
  return {
    timeMs: pick([0, 1, 1_714_550_400_123, Number.MAX_SAFE_INTEGER, -1, -1_714_550_400_123]), level: pick([0, 1, 3, 5, 255, 4_294_967_295]),
    service: text(), requestId: pick(['', '42', '18446744073709551615', text()]), clientIp: text(), serverIp: text(), rpcName: text(), caller: text(),
    coloring: pick([0, 1, 7]), message: random() < 0.1 ? 'm'.repeat(70_000) : text(),
    fieldNames: Array.from({ length: fields }, text), fieldValues: Array.from({ length: fields }, text),
  };
}

test('reads every field as protobufjs does, for 300 random reports (unicode, zeros, extremes, long texts)', () => {
  for (let i = 0; i < 300; i++) {
    const report = { reporter: text(), records: Array.from({ length: Math.floor(random() * 5) }, randomRecord), droppedRecords: pick([0, 3, 2 ** 40]) };
    const bytes = encodeReport('msec.reports.logs', report);
    assert.deepEqual(readLogsReport(bytes), decodeReport('msec.reports.logs', bytes));
  }
});

test('skips fields it does not know, as protobufjs does (a newer sender)', () => {
  const root = protobuf.parse(`syntax = "proto3"; message R { string reporter = 1; repeated Rec records = 2; uint64 dropped_records = 3; fixed64 extra = 20; string more = 21; }
    message Rec { int64 time_ms = 1; string service = 3; fixed32 later = 30; double other = 31; }`).root;
  const R = root.lookupType('R');
  const bytes = R.encode(R.fromObject({ reporter: 'x', extra: 5, more: 'm', records: [{ timeMs: 7, service: 'A.b', later: 9, other: 1.5 }] })).finish();
  assert.deepEqual(readLogsReport(bytes), decodeReport('msec.reports.logs', bytes));
  assert.equal(readLogsReport(bytes).records[0]!.service, 'A.b');
});

test('malformed bytes throw instead of reading past the end', () => {
  const good = encodeReport('msec.reports.logs', { reporter: 'r', records: [randomRecord()], droppedRecords: 0 });
  for (const bytes of [
    good.subarray(0, good.length - 1), new Uint8Array([0x12, 0xff, 0xff, 0xff, 0x0f]), new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    new Uint8Array([0x0b]), new Uint8Array([0x0a, 0x05, 0x61]), new Uint8Array([0x10, 0x80]), new Uint8Array([0x09, 1, 2, 3]),
  ]) {
    assert.throws(() => readLogsReport(bytes), RangeError, Buffer.from(bytes).toString('hex'));
  }
});
