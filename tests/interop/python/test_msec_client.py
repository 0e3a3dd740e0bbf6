"""Offline checks of the Python client: frames, the RpcHead layout and the .proto reader.

Run: python3 -m unittest discover -s tests/interop/python   (needs python3-protobuf)
"""
import os
import struct
import unittest

from msec_client import RpcError, RpcHead, Service, decode_frame, encode_frame
from proto_text import ProtoSyntaxError, parse_proto

HERE = os.path.dirname(os.path.abspath(__file__))
FLIGHT = os.path.join(HERE, '..', '..', 'fixtures', 'flight.proto')

RICH = '''
syntax = "proto3";
package shop.v1;
/* a block comment */
enum Currency { CNY = 0; USD = 1; }
message Item {
  string sku = 1;            // a line comment
  int64 price_cents = 2 [deprecated = true];
  Currency currency = 3;
  map<string, int32> stock = 5;
  message Dim { double w = 1; }
  Dim dim = 7;
  oneof promo { string coupon = 8; uint32 percent = 9; }
  reserved 20 to 30;
}
message ListResponse { repeated Item items = 1; }
service Catalog { rpc List(Item) returns (ListResponse) {} }
'''


class FrameTest(unittest.TestCase):
    def test_layout_is_start_lengths_head_body_end(self):
        frame = encode_frame(RpcHead(sequence=7, method_name='a.B.c'), b'\x01\x02')
        head_len, body_len = struct.unpack('>II', frame[1:9])
        self.assertEqual(frame[:1], b'(')
        self.assertEqual(frame[-1:], b')')
        self.assertEqual(body_len, 2)
        self.assertEqual(len(frame), 10 + head_len + body_len)
        # sequence is field 10, varint: tag (10 << 3) = 0x50
        self.assertEqual(frame[9:11], b'\x50\x07')

    def test_round_trip_keeps_every_head_field(self):
        head = RpcHead(sequence=1 << 40, coloring=1, color_id=3, flow_id=(1 << 64) - 1, err=1003, result=-2,
                       err_msg='timeout', caller='A.b', method_name='p.S.m', caller_stack=['X.y', 'Z.w'], deadline_ms=800)
        back, body = decode_frame(encode_frame(head, b'body'))
        self.assertEqual(back, head)
        self.assertEqual(body, b'body')

    def test_bad_frames_are_frame_errors(self):
        good = encode_frame(RpcHead(sequence=1), b'')
        for bad in (b'[' + good[1:], good[:-1] + b']', good[:-2] + b')'):
            with self.assertRaises(RpcError) as caught:
                decode_frame(bad)
            self.assertEqual(caught.exception.code, 1007)


class ProtoTextTest(unittest.TestCase):
    def test_flight_idl(self):
        with open(FLIGHT, encoding='utf-8') as f:
            service = Service(f.read(), 'flight.proto')
        request_type, response_type = service.types('flight.flight_service.queryFlight')
        request = request_type(name='bison', password='123456', departureCity='sz', destinationCity='xz')
        self.assertTrue(request.IsInitialized())
        self.assertFalse(response_type(errcode=0).IsInitialized(), 'proto2 required fields are enforced')
        with self.assertRaises(RpcError):
            service.types('flight.flight_service.nope')

    def test_every_shape(self):
        service = Service(RICH, 'shop.proto')
        item_type, list_type = service.types('shop.v1.Catalog.List')
        item = item_type(sku='a', price_cents=1 << 40, currency=1, dim={'w': 1.5}, coupon='X')
        item.stock['red'] = 3
        back = item_type()
        back.ParseFromString(item.SerializeToString())
        self.assertEqual(back, item)
        self.assertEqual(back.WhichOneof('promo'), 'coupon')
        self.assertEqual(list_type(items=[item]).items[0].sku, 'a')

    def test_unknown_types_and_imports_are_refused(self):
        with self.assertRaises(ProtoSyntaxError):
            parse_proto('message A { B b = 1; }')
        with self.assertRaises(ProtoSyntaxError):
            parse_proto('import "other.proto"; message A {}')


if __name__ == '__main__':
    unittest.main()
