#!/usr/bin/env python3
"""A paced UDP query stream from one source address, for the rate-limiting
test and the reflection benchmark: sends COUNT queries for NAME at RATE per
second from SOURCE to 127.0.0.1:PORT, reads every reply meanwhile, and
prints one JSON line: sent, full answers, truncated (TC) answers, bytes sent
and received, and the replies' latency (p50, p99, ms; unanswered queries
are not counted). With --cookie it first learns a server cookie (one query with
a client cookie) and sends it with every query.
"""
import argparse
import json
import os
import select
import socket
import struct
import sys
import time


def query(qid, name, qtype, cookie):
    packet = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1)
    for label in name.rstrip(".").split("."):
        packet += bytes([len(label)]) + label.encode()
    packet += b"\0" + struct.pack(">HH", qtype, 1)
    options = b""
    if cookie is not None:
        options = struct.pack(">HH", 10, len(cookie)) + cookie
    return packet + b"\0" + struct.pack(">HHIH", 41, 1232, 0, len(options)) + options


def cookie_of(reply):
    """The COOKIE option of a reply's OPT (the OPT is its last record)."""
    at = reply.rfind(b"\x00\x00\x29")
    if at < 0:
        return None
    rdlength = struct.unpack(">H", reply[at + 9:at + 11])[0]
    data, pos = reply[at + 11:at + 11 + rdlength], 0
    while pos + 4 <= len(data):
        code, length = struct.unpack(">HH", data[pos:pos + 4])
        if code == 10:
            return data[pos + 4:pos + 4 + length]
        pos += 4 + length
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--qtype", type=int, default=1)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--cookie", action="store_true")
    args = parser.parse_args()

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.bind((args.source, 0))
    server = ("127.0.0.1", args.port)
    cookie = None
    if args.cookie:
        sock.sendto(query(1, args.name, args.qtype, os.urandom(8)), server)
        sock.settimeout(2)
        cookie = cookie_of(sock.recv(65535))
        if cookie is None or len(cookie) < 16:
            raise SystemExit("no server cookie learned")
    sock.setblocking(False)
    # The question section every reply must echo, as it was sent.
    question = query(0, args.name, args.qtype, None)[12:]
    question = question[:question.index(b"\0") + 5]

    sent = full = truncated = bytes_out = bytes_in = 0
    malformed = []
    sent_at = {}
    latencies = []

    def drain(timeout):
        nonlocal full, truncated, bytes_in
        while select.select([sock], [], [], timeout)[0]:
            reply = sock.recv(65535)
            received_at = time.monotonic()
            bytes_in += len(reply)
            # Every reply must be a response (QR) to a query of ours with
            # its question: a flood tool that counted anything it received
            # would hide a server answering garbage.
            if len(reply) < 12 or not reply[2] & 0x80 or reply[12:12 + len(question)] != question:
                malformed.append(reply[:16].hex())
                continue
            at = sent_at.pop(struct.unpack(">H", reply[:2])[0], None)
            if at is not None:
                latencies.append((received_at - at) * 1000)
            if struct.unpack(">H", reply[2:4])[0] & 0x0200:
                truncated += 1
            else:
                full += 1
            timeout = 0

    start = time.monotonic()
    while sent < args.count:
        due = start + sent / args.rate
        now = time.monotonic()
        if now < due:
            drain(due - now)
            continue
        packet = query(sent & 0xFFFF, args.name, args.qtype, cookie)
        sent_at[sent & 0xFFFF] = time.monotonic()
        sock.sendto(packet, server)
        bytes_out += len(packet)
        sent += 1
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        drain(0.1)
    if malformed:
        sys.exit(f"dns_flood: {len(malformed)} replies were not responses to our queries, e.g. {malformed[0]}")
    if sent and not full + truncated:
        sys.exit("dns_flood: not one reply")
    latencies.sort()

    def percentile(p):
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 3) if latencies else None

    print(json.dumps({"sent": sent, "full": full, "truncated": truncated, "seconds": round(elapsed, 3),
                      "bytes_sent": bytes_out, "bytes_received": bytes_in,
                      "p50_ms": percentile(0.50), "p99_ms": percentile(0.99)}))


if __name__ == "__main__":
    main()
