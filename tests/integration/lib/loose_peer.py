#!/usr/bin/python3
"""A caller and an MCP around rm, over UDP, for rm's stateless paths (issue 12):

  loose_peer.py RM_PORT MCP_PORT HTTP_PORT

 1. 2xx relay: INVITE -> 180 -> 200 -> ACK; rm let its INVITE client transaction go
    at the 180 (a "loose" branch, keyed Via branch z9hG4bKrm...) and its server
    transaction at the 200: the MCP's 200 retransmitted after the ACK still reaches
    the caller (relayed statelessly), and again after the call's BYE;
 2. stray responses: the same 200 sent to rm from 127.0.0.5 (untrusted) is dropped and
    counted (rm_bad_requests_total{reason="untrusted"}); one from the MCP with a branch
    rm did not make is dropped;
 3. stateless BYE: the caller's BYE sent twice reaches the MCP twice with the same
    rm branch z9hG4bKrmb... (RFC 3261 16.11), the MCP's 200s reach the caller;
 4. CANCEL on a loose branch: the MCP gets a CANCEL with the INVITE's branch, its 487
    is ACKed by rm (same branch, the 487's To tag) and the caller gets 200 + 487; the
    487 retransmitted after the call ended is ACKed again.
Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failure.
"""
import queue
import random
import re
import socket
import sys
import threading
import time
import urllib.request

SP, MP, HP = (int(x) for x in sys.argv[1:4])
RM = ("127.0.0.1", SP)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def udp(host, port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    return s


def parse(data):
    text = data.decode("latin-1")
    head = text.split("\r\n\r\n", 1)[0]
    lines = head.split("\r\n")
    hdrs = []
    for l in lines[1:]:
        if ":" in l:
            k, v = l.split(":", 1)
            hdrs.append((k.strip().lower(), v.strip()))
    return lines[0], hdrs


def hget(hdrs, name):
    return [v for k, v in hdrs if k == name]


class Peer:
    """A UDP socket whose received messages queue up; an MCP answers OPTIONS itself."""

    def __init__(self, sock, mcp=False):
        self.s, self.mcp, self.q = sock, mcp, queue.Queue()
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                data, src = self.s.recvfrom(65535)
            except OSError:
                return
            start, hdrs = parse(data)
            if self.mcp and start.startswith("OPTIONS "):
                self.s.sendto(reply(hdrs, "200 OK"), src)
                continue
            self.q.put((start, hdrs, data, src))

    def want(self, pred, timeout=3.0, what="a message"):
        end = time.time() + timeout
        while time.time() < end:
            try:
                m = self.q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if pred(m[0], m[1]):
                return m
        fail(f"no {what} within {timeout} s")

    def none(self, pred, wait, what):
        end = time.time() + wait
        while time.time() < end:
            try:
                m = self.q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                return
            if pred(m[0], m[1]):
                fail(f"{what}: {m[0]}")


def reply(hdrs, status, to_tag=None, extra=""):
    out = [f"SIP/2.0 {status}"]
    out += [f"Via: {v}" for v in hget(hdrs, "via")]
    out.append(f"From: {hget(hdrs, 'from')[0]}")
    to = hget(hdrs, "to")[0]
    if to_tag and ";tag=" not in to:
        to += f";tag={to_tag}"
    out.append(f"To: {to}")
    out.append(f"Call-ID: {hget(hdrs, 'call-id')[0]}")
    out.append(f"CSeq: {hget(hdrs, 'cseq')[0]}")
    out += [f"Record-Route: {v}" for v in hget(hdrs, "record-route")]
    return ("\r\n".join(out) + "\r\n" + extra + "Content-Length: 0\r\n\r\n").encode()


def metric(name):
    body = urllib.request.urlopen(f"http://127.0.0.1:{HP}/metrics", timeout=3).read().decode()
    for l in body.splitlines():
        if l.startswith(name + " "):
            return float(l.split()[-1])
    return 0.0


caller = Peer(udp("127.0.0.1"))
mcp = Peer(udp("127.0.0.1", MP), mcp=True)
evil = udp("127.0.0.5")
CP = caller.s.getsockname()[1]
ROUTE = f"<sip:127.0.0.1:{SP};lr>"
end = time.time() + 10
while metric("rm_mcps_up") < 1:
    if time.time() > end:
        fail("the MCP never came up")
    time.sleep(0.1)


def request(method, ruri, callid, ftag, branch, cseq, to_tag="", route=False):
    to = "<sip:1000@127.0.0.1>" + (f";tag={to_tag}" if to_tag else "")
    return (f"{method} {ruri} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{CP};rport;branch={branch}\r\n"
            f"From: <sip:a@127.0.0.1>;tag={ftag}\r\nTo: {to}\r\nCall-ID: {callid}\r\n"
            f"CSeq: {cseq} {method}\r\nContact: <sip:a@127.0.0.1:{CP}>\r\n"
            + (f"Route: {ROUTE}\r\n" if route else "")
            + "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n").encode()


def is_req(method, callid):
    return lambda s, h: s.startswith(method + " ") and hget(h, "call-id") == [callid]


def is_resp(code, method, callid):
    return lambda s, h: (s.startswith(f"SIP/2.0 {code}") and hget(h, "call-id") == [callid]
                         and hget(h, "cseq")[0].endswith(method))


def top_branch(hdrs):
    return re.search(r"branch=([^;,\s]+)", hget(hdrs, "via")[0]).group(1)


def setup(callid, ftag, cbranch):
    """INVITE from the caller, the MCP's copy and a 180 back: (hdrs at the MCP, src)."""
    caller.s.sendto(request("INVITE", f"sip:1000@127.0.0.1:{SP}", callid, ftag, cbranch, 1), RM)
    _, ih, _, src = mcp.want(is_req("INVITE", callid), what=f"INVITE {callid} at the MCP")
    if not top_branch(ih).startswith("z9hG4bKrm"):
        fail(f"the INVITE's branch is not rm's keyed one: {top_branch(ih)}")
    mcp.s.sendto(reply(ih, "180 Ringing", "m" + ftag), src)
    caller.want(is_resp(180, "INVITE", callid), what="180 at the caller")
    return ih, src


# ---- 1. 2xx relayed after the transactions are gone ---------------------------------
rnd = random.randint(0, 1 << 30)
cid, ftag = f"loose-2xx-{rnd}", f"f{rnd}"
ih, src = setup(cid, ftag, f"z9hG4bK-c1-{rnd}")
ok200 = reply(ih, "200 OK", "m" + ftag, f"Contact: <sip:mcp@127.0.0.1:{MP}>\r\n")
mcp.s.sendto(ok200, src)
caller.want(is_resp(200, "INVITE", cid), what="200 at the caller")
ack = request("ACK", f"sip:mcp@127.0.0.1:{MP}", cid, ftag, f"z9hG4bK-a1-{rnd}", 1,
              "m" + ftag, route=True)
caller.s.sendto(ack, RM)
mcp.want(is_req("ACK", cid), what="ACK at the MCP")
mcp.s.sendto(ok200, src)  # a retransmission crossing the ACK
caller.want(is_resp(200, "INVITE", cid), what="the retransmitted 200 at the caller")
print("ok: 2xx retransmitted after the ACK relayed to the caller (no transaction left)",
      flush=True)

# ---- 2. stray responses: untrusted source, forged branch ----------------------------
before = metric('rm_bad_requests_total{reason="untrusted"}')
evil.sendto(ok200, RM)
forged = re.sub(rb"branch=z9hG4bKrm[^;\r]+", b"branch=z9hG4bKrmA00000000000000000000",
                ok200, count=1)
mcp.s.sendto(forged, src)
caller.none(is_resp(200, "INVITE", cid), 1.0, "a stray 200 (untrusted or forged) was relayed")
after = metric('rm_bad_requests_total{reason="untrusted"}')
if after < before + 1:
    fail(f"the untrusted stray response was not counted ({before} -> {after})")
print(f"ok: stray 200 from 127.0.0.5 dropped and counted ({before:.0f} -> {after:.0f}), "
      "one with a branch rm did not make dropped", flush=True)

# ---- 3. BYE forwarded statelessly, retransmission with the same branch --------------
bye = request("BYE", f"sip:mcp@127.0.0.1:{MP}", cid, ftag, f"z9hG4bK-b1-{rnd}", 2,
              "m" + ftag, route=True)
caller.s.sendto(bye, RM)
_, b1, _, bsrc = mcp.want(is_req("BYE", cid), what="BYE at the MCP")
caller.s.sendto(bye, RM)
_, b2, _, _ = mcp.want(is_req("BYE", cid), what="the retransmitted BYE at the MCP")
if top_branch(b1) != top_branch(b2) or not top_branch(b1).startswith("z9hG4bKrmb"):
    fail(f"BYE branches {top_branch(b1)} / {top_branch(b2)}: not rm's same keyed branch")
mcp.s.sendto(reply(b1, "200 OK"), bsrc)
caller.want(is_resp(200, "BYE", cid), what="200 to the BYE at the caller")
print(f"ok: BYE and its retransmission forwarded with one branch {top_branch(b1)}, "
      "200 relayed back", flush=True)
mcp.s.sendto(ok200, src)  # the INVITE's 200 once more, the call is over
caller.want(is_resp(200, "INVITE", cid), what="a 200 retransmitted after the BYE")
print("ok: 2xx retransmitted after the call ended still relayed", flush=True)

# ---- 4. CANCEL of a loose branch -----------------------------------------------------
cid2, ftag2, cb2 = f"loose-cancel-{rnd}", f"g{rnd}", f"z9hG4bK-c2-{rnd}"
ih2, src2 = setup(cid2, ftag2, cb2)
caller.s.sendto(request("CANCEL", f"sip:1000@127.0.0.1:{SP}", cid2, ftag2, cb2, 1), RM)
caller.want(is_resp(200, "CANCEL", cid2), what="200 to the CANCEL at the caller")
_, ch, _, csrc = mcp.want(is_req("CANCEL", cid2), what="CANCEL at the MCP")
if top_branch(ch) != top_branch(ih2):
    fail(f"CANCEL branch {top_branch(ch)} is not the INVITE's {top_branch(ih2)}")
mcp.s.sendto(reply(ch, "200 OK"), csrc)
mcp.s.sendto(reply(ih2, "487 Request Terminated", "m" + ftag2), src2)
_, ah, _, _ = mcp.want(is_req("ACK", cid2), what="ACK of the 487 at the MCP")
if top_branch(ah) != top_branch(ih2) or not hget(ah, "to")[0].endswith("tag=m" + ftag2):
    fail(f"the 487's ACK: branch {top_branch(ah)}, To {hget(ah, 'to')}")
caller.want(is_resp(487, "INVITE", cid2), what="487 at the caller")
print("ok: CANCEL on a loose branch: the MCP got CANCEL and ACK with the INVITE's branch, "
      "the caller 200 + 487", flush=True)
mcp.s.sendto(reply(ih2, "487 Request Terminated", "m" + ftag2), src2)  # our ACK "lost"
_, ah2, _, _ = mcp.want(is_req("ACK", cid2), what="a second ACK for the retransmitted 487")
if top_branch(ah2) != top_branch(ih2):
    fail(f"the re-ACK's branch {top_branch(ah2)} is not the INVITE's {top_branch(ih2)}")
print("ok: the 487 retransmitted after the call ended is ACKed again (timer D's job)",
      flush=True)
