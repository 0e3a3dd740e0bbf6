"""Calls an msec service from Python: binary frames over TCP or UDP, or HTTP/JSON.

Written from schemas/rpc-wire.md and schemas/rpc.proto alone (no msec code), with
Debian's python3-protobuf: the RpcHead and the service's messages are built at run time
from descriptors, so no protoc is needed.
"""
import json
import random
import socket
import struct
import urllib.request

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

from proto_text import parse_proto

FDP = descriptor_pb2.FieldDescriptorProto

# schemas/rpc.proto, field by field.
RPC_HEAD_FIELDS = [
    ('sequence', 10, FDP.TYPE_UINT64, FDP.LABEL_OPTIONAL),
    ('coloring', 20, FDP.TYPE_UINT32, FDP.LABEL_OPTIONAL),
    ('color_id', 21, FDP.TYPE_UINT64, FDP.LABEL_OPTIONAL),
    ('flow_id', 30, FDP.TYPE_UINT64, FDP.LABEL_OPTIONAL),
    ('err', 40, FDP.TYPE_INT32, FDP.LABEL_OPTIONAL),
    ('result', 41, FDP.TYPE_INT32, FDP.LABEL_OPTIONAL),
    ('err_msg', 42, FDP.TYPE_STRING, FDP.LABEL_OPTIONAL),
    ('caller', 50, FDP.TYPE_STRING, FDP.LABEL_OPTIONAL),
    ('method_name', 51, FDP.TYPE_STRING, FDP.LABEL_OPTIONAL),
    ('caller_stack', 60, FDP.TYPE_STRING, FDP.LABEL_REPEATED),
    ('deadline_ms', 70, FDP.TYPE_UINT32, FDP.LABEL_OPTIONAL),
]

MAX_FRAME = 16 * 1024 * 1024
MAX_DATAGRAM = 65507


class RpcError(Exception):
    """A non-zero `err` in the answer head (rpc-wire.md's error codes), or a framing problem."""

    def __init__(self, code, message):
        super().__init__(f'{code}: {message}')
        self.code = code
        self.message = message


def _message_class(descriptor):
    if hasattr(message_factory, 'GetMessageClass'):  # protobuf 4.x
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(descriptor.file.pool).GetPrototype(descriptor)  # 3.x (Debian 12)


def _messages(file_proto):
    """Every message class of a FileDescriptorProto, by full name (`flight.queryFlightRequest`)."""
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    classes = {}

    def walk(d):
        classes[d.full_name] = _message_class(d)
        for nested in d.nested_types:
            walk(nested)
    for d in pool.FindFileByName(file_proto.name).message_types_by_name.values():
        walk(d)
    return classes


def _rpc_head_class():
    file = descriptor_pb2.FileDescriptorProto(name='msec/rpc.proto', package='msec.rpc', syntax='proto3')
    head = file.message_type.add(name='RpcHead')
    for name, number, type_, label in RPC_HEAD_FIELDS:
        head.field.add(name=name, number=number, type=type_, label=label)
    return _messages(file)['msec.rpc.RpcHead']


RpcHead = _rpc_head_class()


class Service:
    """The messages and methods of one .proto file."""

    def __init__(self, proto_text, name='service.proto'):
        self.file = parse_proto(proto_text, name)
        self.classes = _messages(self.file)
        self.methods = {}
        package = f'{self.file.package}.' if self.file.package else ''
        for service in self.file.service:
            for method in service.method:
                self.methods[f'{package}{service.name}.{method.name}'] = (
                    self.classes[method.input_type.lstrip('.')], self.classes[method.output_type.lstrip('.')])

    def types(self, method):
        if method not in self.methods:
            raise RpcError(1001, f'the .proto has no method {method}; it has {", ".join(self.methods)}')
        return self.methods[method]


def encode_frame(head, body):
    head_bytes = head.SerializeToString()
    return b'(' + struct.pack('>II', len(head_bytes), len(body)) + head_bytes + body + b')'


def decode_frame(frame):
    """(RpcHead, body bytes) of one complete frame."""
    if len(frame) < 10 or frame[0:1] != b'(' or frame[-1:] != b')':
        raise RpcError(1007, 'not an msec frame (bad start or end byte)')
    head_len, body_len = struct.unpack('>II', frame[1:9])
    if 10 + head_len + body_len != len(frame):
        raise RpcError(1007, 'frame lengths do not add up')
    head = RpcHead()
    head.ParseFromString(frame[9:9 + head_len])
    return head, frame[9 + head_len:9 + head_len + body_len]


def _read_exactly(sock, n):
    chunks = []
    while n > 0:
        chunk = sock.recv(n)
        if not chunk:
            raise RpcError(2005, 'the server closed the connection')
        chunks.append(chunk)
        n -= len(chunk)
    return b''.join(chunks)


def read_frame(sock):
    start = _read_exactly(sock, 9)
    if start[0:1] != b'(':
        raise RpcError(1007, 'the answer does not start with "("')
    head_len, body_len = struct.unpack('>II', start[1:9])
    if 10 + head_len + body_len > MAX_FRAME:
        raise RpcError(1007, 'the answer frame is too large')
    return decode_frame(start + _read_exactly(sock, head_len + body_len + 1))


class Client:
    """Calls `host:port`. Answers keep MSEC's HTTP shape: {ret, errmsg, result, resultObj}."""

    def __init__(self, host, port, service, caller='python.interop', timeout=3.0):
        self.host, self.port, self.service, self.caller, self.timeout = host, port, service, caller, timeout
        self.sequence = random.randrange(1, 1 << 31)
        self._tcp = None

    def _head(self, method):
        self.sequence += 1
        return RpcHead(sequence=self.sequence, flow_id=random.randrange(1, 1 << 64), caller=self.caller,
                       method_name=method, deadline_ms=int(self.timeout * 1000))

    def _answer(self, types_of, head, body, sent):
        if head.sequence != sent.sequence:
            raise RpcError(1007, f'answer for sequence {head.sequence}, expected {sent.sequence}')
        if head.flow_id != sent.flow_id:
            raise RpcError(1007, 'the answer does not echo the flow id')
        result = None
        if head.err == 0:
            response = self.service.types(types_of)[1]()
            response.ParseFromString(body)
            result = json_format.MessageToDict(response, including_default_value_fields=True)
        return {'ret': head.err, 'errmsg': head.err_msg, 'result': head.result, 'resultObj': result,
                'requestId': str(head.flow_id)}

    def _request(self, method, request, types_of):
        request_type = self.service.types(types_of or method)[0]
        message = json_format.ParseDict(request, request_type())
        return self._head(method), message.SerializeToString()

    def call_tcp(self, method, request, types_of=None):
        """`types_of`: encode and decode with another method's types (to send a method the .proto lacks)."""
        head, body = self._request(method, request, types_of)
        if self._tcp is None:
            self._tcp = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self._tcp.sendall(encode_frame(head, body))
        answer_head, answer_body = read_frame(self._tcp)
        return self._answer(types_of or method, answer_head, answer_body, head)

    def call_udp(self, method, request, types_of=None):
        head, body = self._request(method, request, types_of)
        frame = encode_frame(head, body)
        if len(frame) > MAX_DATAGRAM:
            raise RpcError(1002, 'the request is too large for a datagram: call over TCP')
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(self.timeout)
            sock.sendto(frame, (self.host, self.port))
            data, _ = sock.recvfrom(MAX_DATAGRAM)
        answer_head, answer_body = decode_frame(data)
        return self._answer(types_of or method, answer_head, answer_body, head)

    def call_http(self, method, request, msec_form=True):
        """POST /?methodName=… (MSEC's form) or POST /<method>; answers the JSON as sent."""
        path = f'/?methodName={method}' if msec_form else f'/{method}'
        req = urllib.request.Request(f'http://{self.host}:{self.port}{path}', data=json.dumps(request).encode('utf-8'),
                                     headers={'content-type': 'application/json', 'x-msec-caller': self.caller}, method='POST')
        with urllib.request.urlopen(req, timeout=self.timeout) as res:
            answer = json.loads(res.read().decode('utf-8'))
            answer['requestId'] = res.headers.get('x-msec-request-id')
            return answer

    def close(self):
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
