#!/usr/bin/env python3
"""Opens COUNT TCP connections from SOURCE to 127.0.0.1:PORT and holds them.

Used by client_limits_test.sh: a client that tries to hold many idle
connections. After connecting, it waits SETTLE seconds for the server to
close what it refuses, then writes "open=N closed=M" to STATUS, and holds
the open ones until the file RELEASE exists or HOLD seconds pass (bounded:
it always ends by itself). Loopback only.

usage: hold_connections.py PORT SOURCE COUNT STATUS RELEASE [SETTLE] [HOLD]
"""

import errno
import os
import socket
import sys
import time


def closed_by_server(sock):
    """True when the server closed (or reset) the connection."""
    # Non-blocking: with a timeout set, Python would wait for data first.
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def main():
    port, source, count, status, release = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                            sys.argv[4], sys.argv[5])
    settle = float(sys.argv[6]) if len(sys.argv) > 6 else 2.0
    hold = float(sys.argv[7]) if len(sys.argv) > 7 else 45.0
    sockets = []
    failed = 0
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(2)
        sock.bind((source, 0))
        try:
            sock.connect(("127.0.0.1", port))
        except OSError as error:
            # A connection the kernel refused (backlog full): counted as closed.
            if error.errno not in (errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT, None):
                raise
            failed += 1
            sock.close()
            continue
        sockets.append(sock)
    # A server that accepted nothing is not one that caps a client: fail
    # rather than report every connection as "closed".
    if count > 0 and not sockets:
        sys.exit("hold_connections: no connection to 127.0.0.1:%d was accepted" % port)
    time.sleep(settle)
    closed = sum(1 for sock in sockets if closed_by_server(sock)) + failed
    assert 0 <= closed <= count, (closed, count)
    with open(status + ".tmp", "w") as out:
        out.write("open=%d closed=%d\n" % (count - closed, closed))
    os.rename(status + ".tmp", status)
    end = time.monotonic() + hold
    while time.monotonic() < end and not os.path.exists(release):
        time.sleep(0.1)
    for sock in sockets:
        sock.close()


if __name__ == "__main__":
    main()
