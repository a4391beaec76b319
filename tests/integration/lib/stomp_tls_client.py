#!/usr/bin/python3
"""A raw STOMP 1.2 client over TLS (Python's ssl module) for rs's TLS tests.

  stomp_tls_client.py PORT RECORD_ID [--ca FILE] [--cert FILE --key FILE]
                      [--plain] [--login L --passcode P] [--timeout S]

Connects to 127.0.0.1:PORT (TLS unless --plain; the server's certificate is checked
against --ca and must name 127.0.0.1), sends CONNECT, then one CDR with id RECORD_ID
to /queue/gvp.cdr with a receipt. Prints one line and exits:
  0 "receipt"            the RECEIPT came back
  2 "refused: <why>"     TLS handshake failed, the connection was closed, or an
                         ERROR / something other than CONNECTED came back
  1 anything else (a timeout included)
Run with /usr/bin/python3.
"""
import argparse
import json
import socket
import ssl
import sys


def frame(cmd, headers, body=b""):
    h = "".join(f"{k}:{v}\n" for k, v in headers.items())
    return cmd.encode() + b"\n" + h.encode() + b"\n" + body + b"\0"


def read_frame(sock, buf):
    """One frame (command, raw) from sock; heart-beat newlines skipped."""
    while True:
        buf[:] = buf.lstrip(b"\r\n")
        if b"\0" in buf:
            i = buf.index(b"\0")
            raw = bytes(buf[:i])
            del buf[:i + 1]
            return raw.split(b"\n", 1)[0].decode(errors="replace"), raw
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed by the server")
        buf += data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("rid")
    ap.add_argument("--ca")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--plain", action="store_true")
    ap.add_argument("--login")
    ap.add_argument("--passcode", default="")
    ap.add_argument("--timeout", type=float, default=5)
    a = ap.parse_args()
    try:
        sock = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    except OSError as e:
        print(f"cannot connect: {e}")
        return 1
    try:
        if not a.plain:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=a.ca)
            if a.cert:
                ctx.load_cert_chain(a.cert, a.key)
            sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        hdr = {"accept-version": "1.2", "host": "/", "heart-beat": "0,0"}
        if a.login:
            hdr.update(login=a.login, passcode=a.passcode)
        sock.sendall(frame("CONNECT", hdr))
        buf = bytearray()
        cmd, raw = read_frame(sock, buf)
        if cmd != "CONNECTED":
            print(f"refused: {cmd} {raw[:200]!r}")
            return 2
        body = json.dumps({"id": a.rid, "schema": 1, "call_id": a.rid + "@tls",
                           "node": "tls-test", "tenant": "acme",
                           "start_ms": 1700000000000, "answer_ms": 1700000000100,
                           "end_ms": 1700000001100, "duration_ms": 1000,
                           "disposition": "answered", "sip_status": 200,
                           "ended_by": "caller", "attempts": 1}).encode()
        sock.sendall(frame("SEND", {"destination": "/queue/gvp.cdr", "receipt": "r1",
                                    "content-type": "application/json",
                                    "content-length": str(len(body))}, body))
        cmd, raw = read_frame(sock, buf)
        if cmd == "RECEIPT" and b"receipt-id:r1" in raw:
            print("receipt")
            return 0
        print(f"unexpected: {cmd} {raw[:200]!r}")
        return 1
    except (ssl.SSLError, ConnectionError) as e:
        print(f"refused: {e}")
        return 2
    except socket.timeout:
        print("timeout")
        return 1
    except OSError as e:  # a reset during or right after the handshake
        print(f"refused: {e}")
        return 2
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
