"""Calls one method of an msec service and prints the answer as one JSON line.

usage: call.py [--via tcp|udp|http|http-path] [--types-of METHOD] HOST:PORT METHOD PROTO_FILE REQUEST_JSON

    call.py 127.0.0.1:7963 flight.flight_service.queryFlight flight.proto \
        '{"name": "bison", "password": "123456", "departureCity": "sz", "destinationCity": "xz"}'

prints {"ret": 0, "errmsg": "", "result": 0, "resultObj": {...}, "requestId": "..."}; exit 0 when
the call got an answer (whatever its `ret`), 1 when it could not be made.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from google.protobuf import message  # noqa: E402
from msec_client import Client, RpcError, Service  # noqa: E402


def main(argv):
    parser = argparse.ArgumentParser(description='call an msec service')
    parser.add_argument('--via', choices=['tcp', 'udp', 'http', 'http-path'], default='tcp')
    parser.add_argument('--caller', default='python.interop')
    parser.add_argument('--timeout', type=float, default=3.0)
    parser.add_argument('--types-of', help="encode with another method's types (to send a method the .proto lacks)")
    parser.add_argument('address')
    parser.add_argument('method')
    parser.add_argument('proto')
    parser.add_argument('request')
    args = parser.parse_args(argv)
    host, _, port = args.address.rpartition(':')
    with open(args.proto, encoding='utf-8') as f:
        service = Service(f.read(), os.path.basename(args.proto))
    client = Client(host or '127.0.0.1', int(port), service, caller=args.caller, timeout=args.timeout)
    try:
        request = json.loads(args.request)
        if args.via == 'tcp':
            answer = client.call_tcp(args.method, request, args.types_of)
        elif args.via == 'udp':
            answer = client.call_udp(args.method, request, args.types_of)
        else:
            answer = client.call_http(args.method, request, msec_form=args.via == 'http')
    except (RpcError, OSError, ValueError, message.Error) as error:
        print(f'call.py: {error}', file=sys.stderr)
        return 1
    finally:
        client.close()
    sys.stdout.reconfigure(encoding='utf-8')
    print(json.dumps(answer, ensure_ascii=False, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
