#!/usr/bin/env python3
"""Resolves a service through the msec agent's local route lookup (schemas/route-agent.md).

Written from that document alone: one UDP datagram asks (u32 length + service name), one answers
(u32 length, i32 result, then u32 ip, u16 port, u16 type when result is 0).

usage: route_lookup.py AGENT_IP AGENT_PORT SERVICE [COUNT]
prints one line per lookup: "ip:port type" or "error N"
"""
import socket
import struct
import sys

TYPES = {1: "udp", 2: "tcp", 3: "both"}


def lookup(sock, agent, service):
    name = service.encode("utf-8")
    sock.sendto(struct.pack(">I", len(name)) + name, agent)
    data, _ = sock.recvfrom(64)
    length, result = struct.unpack(">Ii", data[:8])
    if length != len(data) - 4:
        raise ValueError("answer length %d does not match %d bytes" % (length, len(data)))
    if result != 0:
        return "error %d" % result
    ip = socket.inet_ntoa(data[8:12])
    port, kind = struct.unpack(">HH", data[12:16])
    return "%s:%d %s" % (ip, port, TYPES.get(kind, "?"))


def main():
    agent = (sys.argv[1], int(sys.argv[2]))
    service = sys.argv[3]
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2.0)
    for _ in range(count):
        print(lookup(sock, agent, service))


if __name__ == "__main__":
    main()
