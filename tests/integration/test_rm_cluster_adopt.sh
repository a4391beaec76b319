#!/usr/bin/env bash
# rm cluster, a node's death (issue 13): three nodes (rm-a 127.0.0.2, rm-b .3, rm-c .4)
# bill to one rs on SQLite. 20 long calls through rm-a (the caller and the MCP wait
# for a BYE: etc/sipp/uac_rr_bye_in.xml, uas_rr_bye_in.xml, copied with any CSeq
# allowed, since an adopter's BYE is numbered above the last CSeq it knows) and 10
# calls of 4 s through rm-b; once every node holds the others' calls, kill -9 rm-a:
#  - exactly one survivor (rm-b, the lowest live id) adopts rm-a's 20 calls: both
#    sides of each get one BYE (sipp checks it and counts the call successful), rm-c
#    adopts none; every call the caller saw answered has exactly one record in rs,
#    ended_by rm-peer-lost, node rm-a, with the id rm-a itself would have written
#    ("<node>-<start_ms>-<32 hex of sha256(call_id LF from_tag)>"), so a copy of the
#    record replayed later from rm-a's spool is the same row (a python STOMP client
#    sends such a copy: still one row);
#  - rm-a's usage is released: rm-b's and rm-c's /cluster show none for rm-a and
#    rm_cluster_sessions_remote (the others' calls) on rm-b drops from 20 to 0;
#  - rm-b's own calls go on and are billed once (ended_by caller);
#  - rm-a restarted: up again on both peers, and it takes calls again;
#  - SIGTERM rm-a with 5 long calls: its drain ends them itself (rm-drain) and tells
#    the peers, so nobody adopts them: one BYE each, one record each.
. "$(dirname "$0")/lib/rm_cluster.sh"
. "$(dirname "$0")/lib/rs.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port); HC=$(free_port)
MA=$(free_port); MB=$(free_port); RSP=$(free_port); RHP=$(free_port)
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"

PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'", "127.0.0.4:'$CP'"]'
LRGS='[{"name":"long","members":[{"uri":"sip:127.0.0.1:'$MA'"}]},
       {"name":"short","members":[{"uri":"sip:127.0.0.1:'$MB'"}]}]'
PROF=', "profiles": [{"name":"long","tenant":"acme","lrg":"long"},
                     {"name":"short","tenant":"acme","lrg":"short"}],
  "dnis": {"1000": "long", "2000": "short"}, "default_profile": "short",
  "session": {"drain_timeout_s": 1}'
node_cfg() { # node_cfg NAME IP HTTP_PORT
	cluster_write_config "$T/$1.json" "rm-$1" "$2" "$SP" "$3" "$CP" "$PEERS" "$LRGS" "$PROF"
	sed -i "s#\"billing\": { \"mode\": \"off\" }#\"billing\": { \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool-$1\" }#" "$T/$1.json"
	grep -q '"mode": "stomp"' "$T/$1.json" || die "billing not set in $1.json"
}
node_cfg a 127.0.0.2 "$HA"
node_cfg b 127.0.0.3 "$HB"
node_cfg c 127.0.0.4 "$HC"

# The long calls' scenarios: any CSeq on the BYE; the caller logs "call_id from_tag"
# of every call answered.
sed -e 's/\^ \*1 BYE\$/^ *[0-9]+ BYE$/' \
    -e 's#<recv response="200" rrs="true" rtd="true"/>#<recv response="200" rrs="true" rtd="true"><action><ereg regexp="[0-9]+SIPpTag[0-9]+" search_in="hdr" header="From:" assign_to="ftag"/><log message="[call_id] [$ftag]"/></action></recv>#' \
    "$SIPP_DIR/uac_rr_bye_in.xml" >"$T/uac_long.xml"
sed -e 's/\^ \*2 BYE\$/^ *[0-9]+ BYE$/' "$SIPP_DIR/uas_rr_bye_in.xml" >"$T/uas_long.xml"
grep -q 'log message' "$T/uac_long.xml" || die "uac_long.xml not made"
grep -q '\[0-9\]+ BYE' "$T/uas_long.xml" || die "uas_long.xml not made"

SIPP_DIR=$T uas_start mcp_long "$MA" uas_long.xml
uas_start mcp_short "$MB" uas_rr.xml
cluster_start a "$T/a.json" "$HA"; PID_A=$NODE_PID
cluster_start b "$T/b.json" "$HB"
cluster_start c "$T/c.json" "$HC"
for h in "$HA" "$HB" "$HC"; do
	wait_metric "$h" rm_cluster_peers_up -eq 2 5 || die "node on $h does not see two peers up"
	wait_metric "$h" rm_mcps_up -eq 2 5 || die "node on $h: MCPs not up"
	wait_metric "$h" rm_billing_publisher_connected -eq 1 5 || die "node on $h not publishing"
done

SIPP_DIR=$T cluster_uac long 127.0.0.2 "$SP" uac_long.xml 20 20 30 -s 1000 \
	-trace_logs -log_file "$T/answered.txt" &
long=$!; bg_pid $long
cluster_uac short 127.0.0.3 "$SP" uac_rr.xml 10 10 30 -s 2000 -d 4000 &
short=$!; bg_pid $short
wait_metric "$HB" rm_cluster_sessions_remote -eq 20 8 ||
	die "rm-b holds $(mval "$HB" rm_cluster_sessions_remote) of rm-a's calls, want 20"
wait_metric "$HC" rm_cluster_sessions_remote -eq 30 5 || die "rm-c does not hold the 30 calls"
wait_metric "$HA" rm_cluster_sessions_remote -eq 10 5 || die "rm-a does not hold rm-b's 10 calls"
# usage of peer N as node H counts it: "tenant:acme" of /cluster
peer_usage() {
	http_get "$1" /cluster | /usr/bin/python3 -c '
import json, sys
for p in json.load(sys.stdin)["peers"]:
    if p["node"] == sys.argv[1]:
        print(p.get("usage", {}).get("tenant:acme", 0)); break
else:
    print(0)' "$2"
}
peer_calls() {
	http_get "$1" /cluster | /usr/bin/python3 -c '
import json, sys
print(sum(p.get("calls", 0) for p in json.load(sys.stdin)["peers"] if p["node"] == sys.argv[1]))' "$2"
}
usage_is() { [ "$(peer_usage "$1" "$2")" = "$3" ]; }
wait_for 3 usage_is "$HB" rm-a 20 || die "rm-b counts $(peer_usage "$HB" rm-a) calls of rm-a"
[ "$(peer_calls "$HB" rm-a)" = 20 ] || die "rm-b's /cluster says rm-a has $(peer_calls "$HB" rm-a) calls"
ok "3 nodes: rm-a carries 20 long calls, rm-b 10; every node holds the others' calls and usage"

kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
wait $long || true
uac_stats "$T/long.csv"
[ "$OK" = 20 ] && [ "$FAILED" = 0 ] ||
	die "caller of rm-a's calls: $OK successful, $FAILED failed (want 20 BYEs, checked): $(tail -n 3 "$T/long.err" 2>/dev/null)"
wait_for 5 eval 'uac_stats "$T/mcp_long.csv"; [ "$OK" = 20 ]' ||
	die "MCP of rm-a's calls: $OK successful, $FAILED failed (want 20 BYEs)"
wait_metric "$HB" rm_cluster_sessions_adopted_total -eq 20 3 ||
	die "rm-b adopted $(mval "$HB" rm_cluster_sessions_adopted_total), want 20"
wait_for 3 cluster_is "$HC" rm-a down || die "rm-c does not see rm-a down"
wait_log "$T/c.log" "peer rm-a down: its 20 calls are rm-b's to end" 1 3 || die "rm-c did not leave the calls to rm-b"
[ "$(mval "$HC" rm_cluster_sessions_adopted_total)" = 0 ] || die "rm-c adopted calls too"
wait_metric "$HB" 'rm_calls_ended_total{ended_by="rm-peer-lost"}' -eq 20 3 ||
	die "rm_calls_ended_total{ended_by=\"rm-peer-lost\"} on rm-b:" \
		"$(mval "$HB" 'rm_calls_ended_total{ended_by="rm-peer-lost"}'), want 20"
wait_metric "$HB" rm_cluster_sessions_remote -eq 0 3 || die "rm-b still holds rm-a's calls"
[ "$(peer_usage "$HB" rm-a)" = 0 ] || die "rm-b still counts rm-a's usage"
[ "$(peer_usage "$HC" rm-a)" = 0 ] || die "rm-c still counts rm-a's usage"
ok "kill -9 rm-a: rm-b alone adopted its 20 calls, both sides of each got one BYE; rm-a's usage released on rm-b and rm-c"

wait $short || true
uac_stats "$T/short.csv"
[ "$OK" = 10 ] || die "rm-b's own calls: $OK of 10 successful"
[ "$(wait_rows "$T/rs.db" 30 15)" -ge 30 ] || die "rs holds $(sql "$T/rs.db" "select count(*) from cdr") records, want 30"
PY=$(cluster_peer_py)
/usr/bin/python3 - "$T/rs.db" "$T/answered.txt" "$RSP" <<'PY' || die "records of the adopted calls"
import hashlib, json, socket, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
answered = {}
for l in open(sys.argv[2]):
    f = l.split()
    if len(f) == 2 and "@" in f[0]:
        answered[f[0]] = f[1]
if len(answered) != 20:
    sys.exit(f"the caller logged {len(answered)} answered calls, want 20")
def rid(node, start, cid, ftag):
    return "%s-%d-%s" % (node, start, hashlib.sha256((cid + "\n" + ftag).encode()).hexdigest()[:32])
bodies = []
for cid, ftag in answered.items():
    rows = db.execute("select id, node, ended_by, start_ms, body from cdr where call_id = ?", (cid,)).fetchall()
    if len(rows) != 1:
        sys.exit(f"call {cid}: {len(rows)} records, want 1")
    i, node, eb, start, body = rows[0]
    if node != "rm-a" or eb != "rm-peer-lost":
        sys.exit(f"call {cid}: node {node} ended_by {eb}, want rm-a rm-peer-lost")
    if i != rid("rm-a", start, cid, ftag):
        sys.exit(f"call {cid}: id {i} is not the id rm-a gives it ({rid('rm-a', start, cid, ftag)})")
    bodies.append(body)
# rm-a's own copy of a record (as its spool would replay it): same id, other content
rec = json.loads(bodies[0]); rec["ended_by"] = "caller"
s = socket.create_connection(("127.0.0.1", int(sys.argv[3])), timeout=5)
s.sendall(b"CONNECT\naccept-version:1.2\nhost:rs\n\n\0")
s.recv(4096)
b = json.dumps(rec).encode()
s.sendall(b"SEND\ndestination:/queue/gvp.cdr\nreceipt:r1\ncontent-type:application/json\ncontent-length:%d\n\n" % len(b) + b + b"\0")
s.settimeout(5); got = s.recv(4096)
if b"RECEIPT" not in got:
    sys.exit(f"rs did not take the copy: {got[:200]!r}")
n = db.execute("select count(*), min(ended_by) from cdr where call_id = ?", (rec["call_id"],)).fetchone()
if n != (1, "rm-peer-lost"):
    sys.exit(f"after the copy: {n}")
PY
check_unique "$T/rs.db"
nb=$(sql "$T/rs.db" "select count(*) from cdr where node = 'rm-b' and ended_by = 'caller'")
[ "$nb" = 10 ] || die "rm-b's own calls: $nb records ended_by caller, want 10"
ok "rs: each of the 20 answered calls has one record (rm-peer-lost, node rm-a, rm-a's own id; a replayed copy is the same row); rm-b's 10 once"

cluster_start a "$T/a.json" "$HA"
wait_for 5 cluster_is "$HB" rm-a up || die "restarted rm-a not up on rm-b"
wait_for 5 cluster_is "$HC" rm-a up || die "restarted rm-a not up on rm-c"
wait_for 5 http_get "$HA" /readyz || die "restarted rm-a not ready: $(http_get "$HA" /readyz)"
wait_metric "$HA" rm_mcps_up -eq 2 5 || die "restarted rm-a: MCPs not up"
cluster_uac again 127.0.0.2 "$SP" uac_rr.xml 10 10 20 -s 2000 -d 200 || true
[ "$OK" = 10 ] || die "restarted rm-a: $OK of 10 calls successful"
[ "$(wait_rows "$T/rs.db" 40 10)" -ge 40 ] || die "the restarted rm-a's calls are not billed"
check_unique "$T/rs.db"
ok "rm-a restarted: resynced with rm-b and rm-c, took 10 calls, billed once each"

# a drained node ends its calls itself and tells its peers: nothing to adopt
SIPP_DIR=$T cluster_uac drain 127.0.0.2 "$SP" uac_long.xml 5 5 20 -s 1000 &
dr=$!; bg_pid $dr
wait_metric "$HB" rm_cluster_sessions_remote -eq 5 5 || die "rm-b does not hold rm-a's 5 calls"
kill -TERM "$(cat "$T/a.pid")"
wait $dr || true
uac_stats "$T/drain.csv"
[ "$OK" = 5 ] || die "drained calls: $OK of 5 got their one BYE"
wait_for 3 cluster_is "$HB" rm-a down || die "rm-b does not see the drained rm-a down"
[ "$(mval "$HB" rm_cluster_sessions_adopted_total)" = 20 ] ||
	die "rm-b adopted calls of a drained node: $(mval "$HB" rm_cluster_sessions_adopted_total) in all"
[ "$(wait_rows "$T/rs.db" 45 10)" -ge 45 ] || die "the drained calls are not billed"
nd=$(sql "$T/rs.db" "select count(*) from cdr where ended_by = 'rm-drain' and node = 'rm-a'")
[ "$nd" = 5 ] || die "$nd records ended_by rm-drain, want 5"
check_unique "$T/rs.db"
ok "SIGTERM rm-a with 5 calls: it ended them (rm-drain, one record each), rm-b adopted none"
