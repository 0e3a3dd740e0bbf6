"""A small .proto reader: text -> FileDescriptorProto, so no protoc is needed.

It knows what service IDLs use: proto2 and proto3, packages, messages (nested), enums,
labels, maps, oneofs, services and rpcs. Options, reserved ranges and extensions are
skipped. Imports are refused: a self-contained IDL is all the interop client needs.
"""
import re

from google.protobuf import descriptor_pb2

FDP = descriptor_pb2.FieldDescriptorProto

SCALARS = {
    'double': FDP.TYPE_DOUBLE, 'float': FDP.TYPE_FLOAT, 'int64': FDP.TYPE_INT64, 'uint64': FDP.TYPE_UINT64,
    'int32': FDP.TYPE_INT32, 'fixed64': FDP.TYPE_FIXED64, 'fixed32': FDP.TYPE_FIXED32, 'bool': FDP.TYPE_BOOL,
    'string': FDP.TYPE_STRING, 'bytes': FDP.TYPE_BYTES, 'uint32': FDP.TYPE_UINT32, 'sfixed32': FDP.TYPE_SFIXED32,
    'sfixed64': FDP.TYPE_SFIXED64, 'sint32': FDP.TYPE_SINT32, 'sint64': FDP.TYPE_SINT64,
}
LABELS = {'optional': FDP.LABEL_OPTIONAL, 'required': FDP.LABEL_REQUIRED, 'repeated': FDP.LABEL_REPEATED}

TOKEN = re.compile(r'\s+|//[^\n]*|/\*.*?\*/|"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[A-Za-z_][\w.]*|\.[A-Za-z_][\w.]*|-?\d[\w.]*|.', re.S)


class ProtoSyntaxError(ValueError):
    pass


def tokenize(text):
    return [t for t in TOKEN.findall(text) if t.strip() and not t.startswith('//') and not t.startswith('/*')]


class _Reader:
    def __init__(self, tokens):
        self.tokens, self.i = tokens, 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self):
        token = self.peek()
        if token is None:
            raise ProtoSyntaxError('unexpected end of the .proto')
        self.i += 1
        return token

    def expect(self, want):
        token = self.next()
        if token != want:
            raise ProtoSyntaxError(f'expected "{want}", found "{token}"')
        return token

    def skip_statement(self):
        """Skips to the end of a statement (`;`) or past a balanced `{ ... }` block."""
        depth = 0
        while True:
            token = self.next()
            if token == '{':
                depth += 1
            elif token == '}':
                depth -= 1
                if depth == 0:
                    return
            elif token == ';' and depth == 0:
                return

    def skip_brackets(self):
        if self.peek() == '[':
            while self.next() != ']':
                pass


def parse_proto(text, name='service.proto'):
    """The .proto text as a FileDescriptorProto (type names resolved to `.pkg.Type`)."""
    reader = _Reader(tokenize(text))
    file = descriptor_pb2.FileDescriptorProto(name=name, syntax='proto2')
    pending = []  # (field, scope) pairs whose type names are resolved at the end
    while reader.peek() is not None:
        token = reader.next()
        if token == 'syntax':
            reader.expect('=')
            file.syntax = reader.next().strip('"\'')
            reader.expect(';')
        elif token == 'package':
            file.package = reader.next()
            reader.expect(';')
        elif token == 'import':
            raise ProtoSyntaxError('imports are not supported by this reader: use a self-contained .proto')
        elif token == 'message':
            _message(reader, file.message_type.add(), _scope(file.package), pending, file.syntax)
        elif token == 'enum':
            _enum(reader, file.enum_type.add())
        elif token == 'service':
            _service(reader, file.service.add())
        elif token == ';':
            continue
        else:
            reader.skip_statement()  # option, extend, …
    _resolve(file, pending)
    return file


def _scope(package):
    return f'.{package}' if package else ''


def _message(reader, msg, scope, pending, syntax):
    msg.name = reader.next()
    full = f'{scope}.{msg.name}'
    reader.expect('{')
    oneof_index = None
    oneof_depth = 0
    while True:
        token = reader.next()
        if token == '}':
            if oneof_depth:
                oneof_depth, oneof_index = 0, None
                continue
            return
        if token == ';':
            continue
        if token == 'message':
            _message(reader, msg.nested_type.add(), full, pending, syntax)
        elif token == 'enum':
            _enum(reader, msg.enum_type.add())
        elif token == 'oneof':
            msg.oneof_decl.add(name=reader.next())
            oneof_index = len(msg.oneof_decl) - 1
            reader.expect('{')
            oneof_depth = 1
        elif token in ('option', 'reserved', 'extensions', 'extend'):
            reader.i -= 1
            reader.skip_statement()
        elif token == 'map':
            _map_field(reader, msg, full, pending)
        else:
            field = msg.field.add()
            if token in LABELS:
                field.label = LABELS[token]
                type_name = reader.next()
            else:
                field.label = FDP.LABEL_OPTIONAL
                type_name = token
            field.name = reader.next()
            reader.expect('=')
            field.number = int(reader.next())
            reader.skip_brackets()
            reader.expect(';')
            field.json_name = _camel(field.name)
            if oneof_index is not None:
                field.oneof_index = oneof_index
            _set_type(field, type_name, full, pending)


def _map_field(reader, msg, scope, pending):
    reader.expect('<')
    key_type = reader.next()
    reader.expect(',')
    value_type = reader.next()
    reader.expect('>')
    name = reader.next()
    reader.expect('=')
    number = int(reader.next())
    reader.skip_brackets()
    reader.expect(';')
    entry = msg.nested_type.add(name=''.join(p[:1].upper() + p[1:] for p in name.split('_')) + 'Entry')
    entry.options.map_entry = True
    entry_scope = f'{scope}.{entry.name}'
    for number_in_entry, (field_name, type_name) in enumerate((('key', key_type), ('value', value_type)), 1):
        f = entry.field.add(name=field_name, number=number_in_entry, label=FDP.LABEL_OPTIONAL, json_name=field_name)
        _set_type(f, type_name, entry_scope, pending)
    field = msg.field.add(name=name, number=number, label=FDP.LABEL_REPEATED, json_name=_camel(name))
    field.type = FDP.TYPE_MESSAGE
    field.type_name = entry_scope


def _set_type(field, type_name, scope, pending):
    if type_name in SCALARS:
        field.type = SCALARS[type_name]
    else:
        field.type_name = type_name
        pending.append((field, scope))


def _enum(reader, enum):
    enum.name = reader.next()
    reader.expect('{')
    while True:
        token = reader.next()
        if token == '}':
            return
        if token == ';':
            continue
        if token in ('option', 'reserved'):
            reader.i -= 1
            reader.skip_statement()
            continue
        reader.expect('=')
        enum.value.add(name=token, number=int(reader.next()))
        reader.skip_brackets()
        reader.expect(';')


def _service(reader, service):
    service.name = reader.next()
    reader.expect('{')
    while True:
        token = reader.next()
        if token == '}':
            return
        if token == ';':
            continue
        if token != 'rpc':
            reader.i -= 1
            reader.skip_statement()
            continue
        method = service.method.add(name=reader.next())
        reader.expect('(')
        if reader.peek() == 'stream':
            reader.next()
            method.client_streaming = True
        method.input_type = reader.next()
        reader.expect(')')
        reader.expect('returns')
        reader.expect('(')
        if reader.peek() == 'stream':
            reader.next()
            method.server_streaming = True
        method.output_type = reader.next()
        reader.expect(')')
        if reader.peek() == '{':
            reader.skip_statement()
        elif reader.peek() == ';':
            reader.next()


def _camel(name):
    parts = name.split('_')
    return parts[0] + ''.join(p[:1].upper() + p[1:] for p in parts[1:])


def _resolve(file, pending):
    """Protobuf's scoping: a name is looked up from the innermost scope outwards."""
    kinds = {}

    def collect(scope, messages, enums):
        for m in messages:
            kinds[f'{scope}.{m.name}'] = FDP.TYPE_MESSAGE
            collect(f'{scope}.{m.name}', m.nested_type, m.enum_type)
        for e in enums:
            kinds[f'{scope}.{e.name}'] = FDP.TYPE_ENUM

    package_scope = _scope(file.package)
    collect(package_scope, file.message_type, file.enum_type)

    def lookup(name, scope):
        if name.startswith('.'):
            return name if name in kinds else None
        while True:
            candidate = f'{scope}.{name}'
            if candidate in kinds:
                return candidate
            if not scope:
                return None
            scope = scope.rsplit('.', 1)[0] if '.' in scope else ''

    for field, scope in pending:
        found = lookup(field.type_name, scope)
        if found is None:
            raise ProtoSyntaxError(f'unknown type "{field.type_name}" of field "{field.name}"')
        field.type_name = found
        field.type = kinds[found]
    for service in file.service:
        for method in service.method:
            for attr in ('input_type', 'output_type'):
                found = lookup(getattr(method, attr), package_scope)
                if found is None or kinds[found] != FDP.TYPE_MESSAGE:
                    raise ProtoSyntaxError(f'unknown message "{getattr(method, attr)}" in rpc {service.name}.{method.name}')
                setattr(method, attr, found)
