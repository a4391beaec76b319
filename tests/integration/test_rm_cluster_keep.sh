#!/usr/bin/env bash
# rm cluster, cluster.adopt "keep" (issue 13): a dead node's answered calls go on
# through the survivor, which writes each record once, at the call's real end.
#
# The shared address. Both nodes advertise sip.advertise 127.0.0.10 (their
# Record-Route), which no process listens on: it stands for a Service or virtual
# address that the network delivers to a live node. On one loopback two processes
# cannot answer one UDP address, so the test plays the network's part with sipp: the
# SIP Server (sipp) sends each call's INVITE and ACK to rm-a's own address 127.0.0.2
# (the node carrying the call), and its BYE, with the Route set naming 127.0.0.10, to
# the survivor 127.0.0.3 (sipp's setdest action), as the shared address would once
# rm-a is gone (and the MCP sipp answers that BYE to rm-b, where it came from). What
# is tested is what rm does with such a request: rm-b recognises
# the Route as its own, finds the kept dialog, routes the BYE to the MCP and writes
# the record.
#
#  - --check-config refuses "keep" without a shared sip.advertise;
#  - both up: 5 calls of rm-a whose ACK and BYE reach rm-b (as a Service spreading
#    requests would deliver them) are told to rm-a, which takes the ACK and ends the
#    call at the BYE, one record each;
#  - 10 calls through rm-a, 5 through rm-b (all 6 s long); kill -9 rm-a: rm-b adopts
#    rm-a's 10 calls and keeps them (no BYE from rm: sipp would fail an unexpected
#    one), counts their usage (tenant 15 = 10 kept + 5 own, MCP ports likewise);
#  - the callers hang up through rm-b: both sides see one BYE and its 200; rs holds
#    one record per call, rm-a's 10 with node rm-a, ended_by caller, rm-a's own
#    record id and their real duration (~6 s, not the kill time); usage returns to 0;
#  - 3 calls of rm-a whose callers hang up (through rm-b) after the kill but before
#    rm-b sees rm-a dead: rm-b routes the BYEs, remembers them, and ends those calls
#    as it adopts them (record ended_by caller, end at the BYE);
#  - 3 calls that rm-a left ringing (an MCP that never answers; their lines reach
#    rm-b after 100-200 ms, proxy_cluster_tick) get a record from rm-b at once: no
#    answer, disposition failed, sip_status 503, ended_by rm-peer-lost, node rm-a.
. "$(dirname "$0")/lib/rm_cluster.sh"
. "$(dirname "$0")/lib/rs.sh"

SP=$(free_port); CP=$(free_port); HA=$(free_port); HB=$(free_port)
MP=$(free_port); MR=$(free_port); RSP=$(free_port); RHP=$(free_port)
SHARED=127.0.0.10
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"

PEERS='["127.0.0.2:'$CP'", "127.0.0.3:'$CP'"]'
LRGS='[{"name":"g","members":[{"uri":"sip:127.0.0.1:'$MP'"}]},
       {"name":"r","members":[{"uri":"sip:127.0.0.1:'$MR'"}]}]'
PROF=', "profiles": [{"name":"ivr","tenant":"acme","lrg":"g"},
                     {"name":"ring","tenant":"other","lrg":"r"}],
  "dnis": {"2000": "ring"}, "default_profile": "ivr",
  "session": {"ack_timeout_ms": 1000}'
node_cfg() { # node_cfg NAME IP HTTP_PORT
	cluster_write_config "$T/$1.json" "rm-$1" "$2" "$SP" "$3" "$CP" "$PEERS" "$LRGS" "$PROF"
	sed -i -e "s#\"billing\": { \"mode\": \"off\" }#\"billing\": { \"mode\": \"stomp\", \"endpoints\": [\"127.0.0.1:$RSP\"], \"spool_dir\": \"$T/spool-$1\" }#" \
	    -e "s#\"key\": \"$CLUSTER_KEY\" }#\"key\": \"$CLUSTER_KEY\", \"adopt\": \"keep\", \"dead_after_ms\": 1500 }#" "$T/$1.json"
	cp "$T/$1.json" "$T/$1-noadv.json"
	sed -i "s#\"transports\"#\"advertise\": \"$SHARED\", \"transports\"#" "$T/$1.json"
	grep -q '"adopt": "keep"' "$T/$1.json" && grep -q "\"advertise\": \"$SHARED\"" "$T/$1.json" &&
		grep -q '"mode": "stomp"' "$T/$1.json" || die "$1.json not made"
}
node_cfg a 127.0.0.2 "$HA"
node_cfg b 127.0.0.3 "$HB"

out=$("$RM_BIN" --check-config "$T/a-noadv.json" 2>&1) && die "--check-config accepted keep without sip.advertise: $out"
echo "$out" | grep -q 'cluster.adopt: "keep" needs sip.advertise set to an address every node answers' ||
	die "--check-config's reason: $out"
sed "s#\"transports\"#\"advertise\": \"127.0.0.2\", \"transports\"#" "$T/a-noadv.json" >"$T/a-own.json"
out=$("$RM_BIN" --check-config "$T/a-own.json" 2>&1) && die "--check-config accepted keep advertising the node's own address: $out"
"$RM_BIN" --check-config "$T/a.json" >/dev/null 2>&1 || die "--check-config refused $T/a.json: $("$RM_BIN" --check-config "$T/a.json" 2>&1)"
ok "--check-config: adopt keep needs a shared sip.advertise (none, or the node's own: refused)"

# The callers: log "call_id from_tag" at the answer; the BYE goes to the survivor
# (the shared address's live node), its Route set naming $SHARED.
sed -e 's#<recv response="200" rrs="true" rtd="true"/>#<recv response="200" rrs="true" rtd="true"><action><ereg regexp="[0-9]+SIPpTag[0-9]+" search_in="hdr" header="From:" assign_to="ftag"/><log message="[call_id] [$ftag]"/></action></recv>#' \
    -e "s#  <pause/>#  <pause/>\n  <nop><action><setdest host=\"127.0.0.3\" port=\"$SP\" protocol=\"udp\"/></action></nop>#" \
    "$SIPP_DIR/uac_rr.xml" >"$T/uac_keep.xml"
grep -q 'setdest' "$T/uac_keep.xml" && grep -q 'log message' "$T/uac_keep.xml" || die "uac_keep.xml not made"
# The MCP answers the BYE where it came from, rm-b (as RFC 3261 18.2.2 has a UA answer
# the Via; sipp would answer the address the INVITE came from, dead rm-a).
sed -e "s#<recv request=\"BYE\"/>#<recv request=\"BYE\"><action><setdest host=\"127.0.0.3\" port=\"$SP\" protocol=\"udp\"/></action></recv>#" \
    "$SIPP_DIR/uas_rr.xml" >"$T/uas_keep.xml"
grep -q 'setdest' "$T/uas_keep.xml" || die "uas_keep.xml not made"

SIPP_DIR=$T uas_start mcp "$MP" uas_keep.xml
uas_start mcp_ring "$MR" uas_noanswer.xml
cluster_start a "$T/a.json" "$HA"; PID_A=$NODE_PID
cluster_start b "$T/b.json" "$HB"
for h in "$HA" "$HB"; do
	wait_metric "$h" rm_cluster_peers_up -eq 1 5 || die "node on $h does not see its peer up"
	wait_metric "$h" rm_mcps_up -eq 2 5 || die "node on $h: MCPs not up"
	wait_metric "$h" rm_billing_publisher_connected -eq 1 5 || die "node on $h not publishing"
done

# Both nodes up, the shared address spreading requests: 5 calls through rm-a whose
# ACK and BYE reach rm-b (setdest at the 200). rm-b routes them and tells rm-a
# (cluster_seen.c): rm-a takes the ACK (else, ack_timeout_ms 1000, it would BYE both
# sides after 1 s: sipp fails an unexpected BYE) and ends the call at the BYE.
sed -e "s#<recv response=\"200\" rrs=\"true\" rtd=\"true\"/>#<recv response=\"200\" rrs=\"true\" rtd=\"true\"><action><setdest host=\"127.0.0.3\" port=\"$SP\" protocol=\"udp\"/></action></recv>#" \
    "$SIPP_DIR/uac_rr.xml" >"$T/uac_spread.xml"
grep -q 'setdest' "$T/uac_spread.xml" || die "uac_spread.xml not made"
SIPP_DIR=$T cluster_uac spread 127.0.0.2 "$SP" uac_spread.xml 5 20 20 -d 3000 || true
[ "$OK" = 5 ] && [ "$FAILED" = 0 ] || die "calls acked and ended through rm-b: $OK successful, $FAILED failed: $(tail -n 3 "$T/spread.err" 2>/dev/null)"
wait_metric "$HA" rm_calls_active -eq 0 2 || die "rm-a still holds $(mval "$HA" rm_calls_active) calls whose BYE went through rm-b"
[ "$(mval "$HA" 'rm_calls_ended_total{ended_by="caller"}')" = 5 ] && [ "$(mval "$HA" 'rm_byes_sent_total{to="mcp"}')" = 0 ] ||
	die "rm-a: $(mval "$HA" 'rm_calls_ended_total{ended_by="caller"}') calls ended by the caller (want 5), $(mval "$HA" 'rm_byes_sent_total{to="mcp"}') BYEs of its own (want 0)"
ok "5 calls of rm-a whose ACK and BYE went through rm-b: rm-a took the ACK (no BYE of its own) and ended each at the BYE"

# 3 calls through rm-b that ring 700 ms, then the caller CANCELs them: rm-a hears of
# them while they ring and forgets them when they end
sed -e 's#<pause milliseconds="200"/>#<pause milliseconds="700"/>#' "$SIPP_DIR/uac_cancel.xml" >"$T/uac_cancel.xml"
grep -q 'milliseconds="700"' "$T/uac_cancel.xml" || die "uac_cancel.xml not made"
SIPP_DIR=$T cluster_uac cancel 127.0.0.3 "$SP" uac_cancel.xml 3 20 30 -s 2000 &
cancel=$!; bg_pid $cancel
wait_metric "$HA" rm_cluster_sessions_remote -eq 3 3 ||
	die "rm-a holds $(mval "$HA" rm_cluster_sessions_remote) of rm-b's ringing calls, want 3"
wait $cancel || true
uac_stats "$T/cancel.csv"
[ "$OK" = 3 ] || die "cancelled calls: $OK of 3 went as planned"
wait_metric "$HA" rm_cluster_sessions_remote -eq 0 3 ||
	die "rm-a still holds $(mval "$HA" rm_cluster_sessions_remote) of rm-b's cancelled calls"
ok "3 calls ringing on rm-b for 700 ms: rm-a held them while they rang, and let go when they were CANCELled"

t0=$(date +%s%3N)
# 3 calls whose callers hang up (through rm-b) 2.5 s after the answer: after the
# kill at t0 + 2.2 s, before rm-b sees rm-a dead (dead_after_ms 1500)
SIPP_DIR=$T cluster_uac window 127.0.0.2 "$SP" uac_keep.xml 3 20 30 -d 2500 \
	-trace_logs -log_file "$T/window.txt" &
window=$!; bg_pid $window
cluster_uac ringing 127.0.0.2 "$SP" uac_rr.xml 3 20 30 -s 2000 \
	-trace_logs -log_file "$T/ringing.txt" &
ringing=$!; bg_pid $ringing
SIPP_DIR=$T cluster_uac kept 127.0.0.2 "$SP" uac_keep.xml 10 20 30 -d 6000 \
	-trace_logs -log_file "$T/answered.txt" &
kept=$!; bg_pid $kept
cluster_uac own 127.0.0.3 "$SP" uac_rr.xml 5 20 30 -d 6000 &
own=$!; bg_pid $own
wait_metric "$HB" rm_cluster_sessions_remote -eq 16 2 ||
	die "rm-b holds $(mval "$HB" rm_cluster_sessions_remote) of rm-a's calls, want 16 (13 answered, 3 ringing)"
wait_metric "$HB" rm_calls_active -eq 5 1 || die "rm-b carries $(mval "$HB" rm_calls_active) calls, want 5"
ok "rm-a carries 13 answered calls and 3 ringing, rm-b 5; rm-b holds rm-a's 16"

t_kill=$(date +%s%3N)
[ $((t_kill - t0)) -lt 2100 ] || die "the calls took $((t_kill - t0)) ms to be set up: too slow here for the BYE window"
sleep "$(awk -v d=$((2200 - (t_kill - t0))) 'BEGIN { print d / 1000 }')"
t_kill=$(date +%s%3N)
kill -9 "$PID_A"
wait "$PID_A" 2>/dev/null || true
wait_metric "$HB" rm_cluster_sessions_adopted_total -eq 16 3 ||
	die "rm-b adopted $(mval "$HB" rm_cluster_sessions_adopted_total), want 16"
wait_log "$T/b.log" "peer rm-a down: this node adopts its 16 calls .kept: their in-dialog requests are routed here" 1 2 || die "rm-b's log does not say it keeps rm-a's calls"
t_down=$(date -d "$(grep "peer rm-a down: no frame" "$T/b.log" | tail -n 1 | cut -d' ' -f1)" +%s%3N)
n=$(grep -c 'its BYE went by already' "$T/b.log")
[ "$n" = 3 ] || die "rm-b ended $n kept calls whose BYE went by before the adoption, want 3"
ok "3 calls hung up through rm-b after the kill, before it saw rm-a down ($((t_down - t_kill)) ms after the kill): routed, and ended at their adoption"
wait_metric "$HB" rm_calls_active -eq 15 2 || die "rm-b has $(mval "$HB" rm_calls_active) live calls, want 15 (10 kept)"
wait_metric "$HB" 'rm_tenant_calls_active{tenant="acme"}' -eq 15 3 ||
	die "rm-b counts $(mval "$HB" 'rm_tenant_calls_active{tenant="acme"}') calls of acme, want 15 (10 kept + 5 own)"
wait_metric "$HB" "rm_mcp_active{mcp=\"sip:127.0.0.1:$MP\"}" -eq 15 3 ||
	die "rm-b counts $(mval "$HB" "rm_mcp_active{mcp=\"sip:127.0.0.1:$MP\"}") ports of the MCP, want 15"
[ "$(mval "$HB" 'rm_byes_sent_total{to="caller"}')" = 0 ] && [ "$(mval "$HB" 'rm_byes_sent_total{to="mcp"}')" = 0 ] ||
	die "rm-b sent BYEs to the kept calls"
[ "$(mval "$HB" 'rm_calls_ended_total{ended_by="rm-peer-lost"}')" = 3 ] ||
	die "rm-b ended $(mval "$HB" 'rm_calls_ended_total{ended_by="rm-peer-lost"}') calls as rm-peer-lost, want the 3 ringing"
[ "$(($(date +%s%3N) - t_kill))" -lt 3500 ] || die "adoption checks ran past the calls' BYEs: the test is too slow here"
ok "kill -9 rm-a: rm-b keeps its 10 live answered calls (no BYE), counts their usage (tenant and MCP 15), ends the 3 ringing"

wait $window || true
uac_stats "$T/window.csv"
[ "$OK" = 3 ] && [ "$FAILED" = 0 ] || die "calls hung up before the adoption: $OK successful, $FAILED failed"
wait $kept || true
uac_stats "$T/kept.csv"
[ "$OK" = 10 ] && [ "$FAILED" = 0 ] ||
	die "callers of rm-a's calls: $OK successful, $FAILED failed (BYE via rm-b): $(tail -n 3 "$T/kept.err" 2>/dev/null)"
wait $own || true
uac_stats "$T/own.csv"
[ "$OK" = 5 ] || die "rm-b's own calls: $OK of 5 successful"
wait_for 5 eval 'uac_stats "$T/mcp.csv"; [ "$OK" = 23 ]' || die "MCP: $OK successful calls, $FAILED failed (want 23 BYEs)"
ok "the callers hung up through rm-b: each BYE routed to the MCP and answered"

wait_metric "$HB" rm_calls_active -eq 0 3 || die "rm-b still has $(mval "$HB" rm_calls_active) live calls"
wait_metric "$HB" 'rm_tenant_calls_active{tenant="acme"}' -eq 0 3 ||
	die "rm-b still counts $(mval "$HB" 'rm_tenant_calls_active{tenant="acme"}') calls of acme"
wait_metric "$HB" "rm_mcp_active{mcp=\"sip:127.0.0.1:$MP\"}" -eq 0 3 || die "rm-b still holds MCP ports"
[ "$(mval "$HB" 'rm_calls_ended_total{ended_by="caller"}')" = 21 ] ||
	die "rm-b ended $(mval "$HB" 'rm_calls_ended_total{ended_by="caller"}') calls by the caller's BYE or CANCEL, want 21 (3 cancelled)"
[ "$(wait_rows "$T/rs.db" 29 10)" = 29 ] || die "rs holds $(sql "$T/rs.db" "select count(*) from cdr") records, want 29"
/usr/bin/python3 - "$T/rs.db" "$T/answered.txt" "$T/window.txt" "$t_kill" "$t_down" <<'PY' || die "records of the kept calls"
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
answered = {}
for l in open(sys.argv[2]):
    f = l.split()
    if len(f) == 2 and "@" in f[0]:
        answered[f[0]] = f[1]
window = {}
for l in open(sys.argv[3]):
    f = l.split()
    if len(f) == 2 and "@" in f[0]:
        window[f[0]] = f[1]
if len(window) != 3:
    sys.exit(f"{len(window)} calls of the BYE window logged, want 3")
for cid in window:
    r = db.execute("select node, ended_by, duration_ms, end_ms from cdr where call_id = ?", (cid,)).fetchall()
    if len(r) != 1 or r[0][0] != "rm-a" or r[0][1] != "caller" or not 2400 <= r[0][2] <= 3500:
        sys.exit(f"call {cid} hung up before the adoption: {r}, want one record rm-a caller ~2500 ms")
    if not int(sys.argv[4]) < r[0][3] < int(sys.argv[5]):
        sys.exit(f"call {cid}: its BYE at {r[0][3]} is not between the kill {sys.argv[4]} and the adoption {sys.argv[5]}")
spread = db.execute("select count(*) from cdr where node = 'rm-a' and ended_by = 'caller' and duration_ms between 2900 and 6000 and call_id not in (%s)" % ",".join("?" * len(answered)), list(answered)).fetchone()[0]
if spread != 5:
    sys.exit(f"{spread} records of the 5 calls ended through rm-b (rm-a, caller, ~3 s), want 5")
if len(answered) != 10:
    sys.exit(f"the caller logged {len(answered)} answered calls, want 10")
for cid, ftag in answered.items():
    rows = db.execute("select id, node, ended_by, start_ms, answer_ms, end_ms from cdr where call_id = ?", (cid,)).fetchall()
    if len(rows) != 1:
        sys.exit(f"call {cid}: {len(rows)} records, want 1")
    i, node, eb, start, ans, end = rows[0]
    want = "rm-a-%d-%s" % (start, hashlib.sha256((cid + "\n" + ftag).encode()).hexdigest()[:32])
    if node != "rm-a" or eb != "caller" or i != want:
        sys.exit(f"call {cid}: id {i} node {node} ended_by {eb}, want {want} rm-a caller")
    if not ans or not (5500 <= end - ans <= 9000):
        sys.exit(f"call {cid}: answered {ans}, lasted {end - (ans or 0)} ms, want its real ~6000")
# the ringing calls: sipp's INVITEs (Call-ID "N-PID@...") to dnis 2000
rows = db.execute("select id, node, ended_by, answer_ms, disposition, sip_status, call_id from cdr where dnis = '2000' and node = 'rm-a'").fetchall()
if len(rows) != 3:
    sys.exit(f"{len(rows)} records of the ringing calls, want 3")
for i, node, eb, ans, disp, st, cid in rows:
    if (node, eb, ans, disp, st) != ("rm-a", "rm-peer-lost", None, "failed", 503) or not i.startswith("rm-a-"):
        sys.exit(f"ringing call {cid}: {i} {node} {eb} {ans} {disp} {st}, want rm-a rm-peer-lost None failed 503")
PY
check_unique "$T/rs.db"
nb=$(sql "$T/rs.db" "select count(*) from cdr where node = 'rm-b' and ended_by = 'caller' and dnis <> '2000'")
[ "$nb" = 5 ] || die "rm-b's own calls: $nb records ended_by caller, want 5"
ok "rs: one record per call; rm-a's 10 with rm-a's id, ended_by caller, their real ~6 s; usage back to 0; the 3 ringing: failed 503 rm-peer-lost"
