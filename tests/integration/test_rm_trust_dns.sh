#!/usr/bin/env bash
# Trusted peers named by host name resolve through rm's own resolver, never blocking
# the SIP thread (issue 10, items 1 and 3). Runs inside a network namespace with only
# loopback up, its own /etc/hosts and an /etc/resolv.conf naming 127.0.0.53, where a
# python socket reads queries and never answers (unshare -n -m, bind mounts):
#  - sip.sip_servers names ss.test.internal (/etc/hosts: 127.0.0.7): once resolved,
#    an OPTIONS from 127.0.0.7 is answered 200; 127.0.0.8 gets 403;
#  - /etc/hosts moves the name to 127.0.0.8: after sip.dns.cache_s (1 s) it is
#    re-resolved, 127.0.0.8 is trusted and 127.0.0.7 no longer;
#  - a reload adds hung.example.com (only the silent nameserver knows of it): SIGHUP
#    is applied within 1 s while a sipp SIP Server on 127.0.0.1 (numeric) keeps
#    completing every call, and the "not trusted until it resolves" line is logged
#    at most once per interval.
. "$(dirname "$0")/lib/netns.sh"
netns_enter "$@"
. "$(dirname "$0")/lib/rm.sh"

netns_names $'127.0.0.1 localhost\n127.0.0.7 ss.test.internal' "nameserver 127.0.0.53"
getent hosts ss.test.internal | grep -q 127.0.0.7 || die "the namespace's /etc/hosts is not used"

dns_silent 127.0.0.53 "$T/dns_queries"

RAW="$HELPERS/sip_raw.py"
SP=$(free_port); HP=$(free_port); M1=$(free_port); SS=$(free_port)
write_cfg() { # write_cfg SIP_SERVERS_JSON_LIST
	rm_write_config "$T/rm.json.new" "$SP" "$HP" "[
  {\"name\":\"ivr\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" \
		"$(rm_default_profile ivr)"
	sed -i "s#\"sip_servers\": \[[^]]*\]#\"dns\": {\"timeout_ms\": 1000, \"cache_s\": 1}, \"sip_servers\": [$1]#" \
		"$T/rm.json.new"
	grep -q "sip:127.0.0.1:$SS" "$T/rm.json.new" || die "could not set sip_servers: $(cat "$T/rm.json.new")"
	mv "$T/rm.json.new" "$T/rm.json"
}
write_cfg "\"sip:127.0.0.1:$SS\", \"sip:ss.test.internal:5060\""

# probe SRC: rm's answer (status code) to an OPTIONS for rm itself from SRC, "" for none
probe() {
	printf 'OPTIONS sip:127.0.0.1:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:@SRCPORT@;rport;branch=z9hG4bK-%s\r\nFrom: <sip:p@%s>;tag=%s\r\nTo: <sip:rm@127.0.0.1>\r\nCall-ID: probe-%s\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n' \
		"$SP" "$1" "$RANDOM$RANDOM" "$1" "$RANDOM" "$RANDOM$RANDOM" |
		/usr/bin/python3 "$RAW" "$1" "$SP" udp 1 | tail -n 1 | awk '{print $2}'
}
answers() { [ "$(probe "$1")" = "$2" ]; } # answers SRC STATUS

uas_start mcp "$M1" uas_rr.xml u1
rm_start "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 1 10 || die "the MCP never came up"

# ---- a named SIP Server is trusted once its name resolves ------------------------
wait_for 3 answers 127.0.0.7 200 ||
	die "OPTIONS from 127.0.0.7 (ss.test.internal) answered '$(probe 127.0.0.7)', want 200"
[ "$(probe 127.0.0.8)" = 403 ] || die "OPTIONS from 127.0.0.8 answered '$(probe 127.0.0.8)', want 403"
ok "ss.test.internal (127.0.0.7) trusted once resolved; 127.0.0.8 refused 403"

# ---- the name moves: re-resolved after cache_s -------------------------------------
printf '127.0.0.1 localhost\n127.0.0.8 ss.test.internal\n' >"$T/hosts"
t0=$(date +%s%N)
wait_for 5 answers 127.0.0.8 200 ||
	die "ss.test.internal moved to 127.0.0.8 but 127.0.0.8 is still answered '$(probe 127.0.0.8)'"
t1=$(date +%s%N)
[ "$(probe 127.0.0.7)" = 403 ] || die "127.0.0.7 is still trusted after ss.test.internal moved"
ok "ss.test.internal moved to 127.0.0.8: trusted after $(((t1 - t0) / 1000000))ms, 127.0.0.7 refused"

# ---- SIGHUP adding a name only the silent nameserver could answer ----------------
write_cfg "\"sip:127.0.0.1:$SS\", \"sip:ss.test.internal:5060\", \"sip:hung.example.com:5060\""
uac_run calls "$SP" uac_rr.xml 40 20 6 -d 10 &
uac_job=$!
wait_for 3 test -s "$T/calls.csv" || true
n=$(log_count "$T/rm.log" "configuration reloaded")
t0=$(date +%s%N)
kill -HUP "$RM_PID"
wait_log "$T/rm.log" "configuration reloaded" $((n + 1)) 5 || die "rm did not reload within 5 s"
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
[ "$ms" -le 1000 ] || die "SIGHUP with hung.example.com took ${ms}ms to apply (the SIP thread waited on DNS)"
ok "SIGHUP adding hung.example.com applied in ${ms}ms"
rc=0; wait "$uac_job" || rc=$?
uac_stats "$T/calls.csv"
[ "$rc" = 0 ] && [ "$OK" = 40 ] ||
	die "calls from the numeric SIP Server during the reload: $OK of 40 completed (sipp exit $rc)"
ok "40 of 40 calls from 127.0.0.1 completed across the reload"
[ "$(probe 127.0.0.8)" = 200 ] || die "ss.test.internal (127.0.0.8) lost its trust on reload"
[ -s "$T/dns_queries" ] || die "the silent DNS stub saw no query: hung.example.com was never looked up"

# the log says the name is not trusted yet, rate-limited (the guard looks every tick)
wait_log "$T/rm.log" "hung.example.com.*not trusted" 1 3 || die "no log line says hung.example.com is not trusted"
sleep 2 # scenario: the guard keeps looking for 2 s; lines over that time are counted
c=$(log_count "$T/rm.log" "hung.example.com.*not trusted")
[ "$c" -le 2 ] || die "the 'not trusted' line for hung.example.com was logged $c times in ~3 s"
ok "log: $(grep -m1 "hung.example.com.*not trusted" "$T/rm.log" | cut -c1-150) ($c line(s))"

t0=$(date +%s%N)
kill -TERM "$RM_PID"
wait_gone "$RM_PID" 6 || die "rm still runs 6 s after SIGTERM"
ok "SIGTERM stopped rm in $((($(date +%s%N) - t0) / 1000000))ms"
