# rm cluster helpers: nodes on their own loopback addresses (127.0.0.2, 127.0.0.3, ...)
# with SIP and the cluster port on that address (the same port numbers on every
# node, as in a pod per node) and HTTP on 127.0.0.1 (one port per node), sipp SIP
# Servers aimed at one node, and a python peer that speaks the cluster protocol.
# Source it: . "$(dirname "$0")/lib/rm_cluster.sh" (it sources rm.sh).
[ -z "${_LIB_RM_CLUSTER:-}" ] || return 0
_LIB_RM_CLUSTER=1
. "$(dirname "${BASH_SOURCE[0]}")/rm.sh"

CLUSTER_KEY=${CLUSTER_KEY:-integration-test-cluster-key-0123}

# cluster_write_config FILE NODE IP SIP_PORT HTTP_PORT CLUSTER_PORT PEERS LRGS [EXTRA]
# PEERS: JSON array of "host:port"; LRGS: the "lrgs" array; EXTRA: more top-level
# keys (", \"k\": v" form).
cluster_write_config() {
	local f=$1 node=$2 ip=$3 sp=$4 hp=$5 cp=$6 peers=$7 lrgs=$8 extra=${9:-}
	cat >"$f" <<JSON
{
  "node": "$node",
  "sip": { "listen": "$ip", "port": $sp, "transports": ["udp", "tcp"],
           "sip_servers": ["sip:127.0.0.1:$((sp + 30))"], "trusted": ["127.0.0.0/8"] },
  "lrgs": $lrgs,
  "monitor": { "interval_ms": 500, "timeout_ms": 400, "failures_to_down": 2,
               "successes_to_up": 1 },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "billing": { "mode": "off" },
  "logging": { "level": "${RM_LOG_LEVEL:-info}" },
  "cluster": { "listen": "$ip", "port": $cp, "peers": $peers, "key": "$CLUSTER_KEY" }$extra
}
JSON
}

# cluster_start NAME CONFIG HTTP_PORT: start node NAME (log $T/NAME.log, pid in
# NODE_PID and $T/NAME.pid) and wait for its HTTP port.
cluster_start() {
	"$RM_BIN" -c "$2" >>"$T/$1.log" 2>&1 &
	NODE_PID=$!
	echo "$NODE_PID" >"$T/$1.pid"
	bg_pid "$NODE_PID"
	wait_port "$3" 10 || die "node $1 did not open HTTP port $3"
}

# cluster_state HTTP_PORT NODE: NODE's state in that node's /cluster ("" if absent).
cluster_state() {
	http_get "$1" /cluster | /usr/bin/python3 -c '
import json, sys
n = sys.argv[1]
for p in json.load(sys.stdin)["peers"]:
    if p["node"] == n:
        print(p["state"]); break' "$2"
}

# cluster_is HTTP_PORT NODE STATE: true when /cluster says NODE is in STATE.
cluster_is() { [ "$(cluster_state "$1" "$2")" = "$3" ]; }

# cluster_uac NAME HOST PORT SCENARIO CALLS RATE TIMEOUT_S [sipp args...]: uac_run
# aimed at HOST (a node's SIP address); sets CREATED OK FAILED.
cluster_uac() {
	local name=$1 host=$2
	shift 2
	UAC_HOST=$host uac_run "$name" "$@"
}

# cluster_peer_py: path of a python module speaking the cluster protocol (frames as
# README "Cluster" describes them), for tests that play a peer or an attacker.
cluster_peer_py() {
	[ -f "$T/cluster_peer.py" ] || cat >"$T/cluster_peer.py" <<'PY'
import hashlib, hmac, socket, time

def frame(key, cmd, typ, frm, to, inc, seq, body=b"", mac=True, ts=None):
    ts = int(time.time() * 1000) if ts is None else ts
    canon = ("rmc1\n%s\n%s\n%s\n%s\n%d\n%d\n%d\n" % (cmd, typ, frm, to, inc, seq, ts)).encode() + body
    h = ["type:" + typ, "from:" + frm, "to:" + to, "inc:%d" % inc, "seq:%d" % seq, "ts:%d" % ts]
    if cmd == "SEND":
        h.insert(0, "destination:/rm/cluster")
    if mac is True:
        h.append("mac:" + hmac.new(key, canon, hashlib.sha256).hexdigest())
    elif mac:
        h.append("mac:" + mac)
    if body:
        h.append("content-length:%d" % len(body))
    return (cmd + "\n" + "\n".join(h) + "\n\n").encode() + body + b"\0"

def connect(host, port):
    s = socket.create_connection((host, port), timeout=3)
    return s
PY
	echo "$T/cluster_peer.py"
}
