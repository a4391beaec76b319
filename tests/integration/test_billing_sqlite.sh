#!/usr/bin/env bash
# Billing end to end (issue 4, acceptance 1):
#   2,000 calls (sipp SIP Server -> rm -> two sipp MCPs) with rm publishing to rs
#   (SQLite): exactly 2,000 answered records, no duplicate id or call-id, each
#   record's duration within 50 ms of sipp's measured call length (-d), tenant/profile/LRG
#   from the DNIS table, the MCP column matching the INVITEs each MCP received, and
#   one call.start/answer/end event per call in rs's events table.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port)
N=2000; LEN=1000
rs_sqlite_config "$T/rs.json" "$RSP" "$RHP" "$T/rs.db"
rs_start "$T/rs.json" "$RSP"
rm_up_publishing "127.0.0.1:$RSP"

start=$(date +%s)
uac_run calls "$SP" uac_timed.xml "$N" 250 60 -d "$LEN" -s 1000 \
	-trace_logs -log_file "$T/times.log" || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "$OK of $N calls succeeded, $FAILED failed"
ok "$N calls through rm in $(($(date +%s) - start)) s, 0 failed"

wait_metric "$HP" rm_billing_published_total -ge "$N" 20 ||
	die "rm_billing_published_total $(mval "$HP" rm_billing_published_total) < $N"
n=$(wait_rows "$T/rs.db" "$N" 10)
[ "$n" = "$N" ] || die "cdr rows: $n, want $N"
a=$(sql "$T/rs.db" "select count(*) from cdr where disposition='answered' and sip_status=200")
[ "$a" = "$N" ] || die "answered records: $a, want $N"
check_unique "$T/rs.db"
[ "$(mval "$HP" rm_billing_records_total)" = "$N" ] || die "rm_billing_records_total != $N"
[ "$(mval "$HP" rm_billing_lost_total)" = 0 ] || die "records lost"
ok "exactly $N answered records, no duplicate id or call-id"

# sipp's own length of each call (200 received -> BYE sent, its clock) beside the
# billed duration: on a busy machine sipp's -d pause itself runs late.
awk '$2 == "answered" {a[$1] = $3} $2 == "bye" && ($1 in a) {print $1 "|" $3 - a[$1]}' \
	"$T/times.log" | sort >"$T/sipp_len.psv"
sql "$T/rs.db" "select call_id || '|' || duration_ms from cdr" | sort >"$T/billed.psv"
join -t'|' "$T/sipp_len.psv" "$T/billed.psv" >"$T/both.psv"
[ "$(wc -l <"$T/both.psv")" = "$N" ] || die "sipp timed $(wc -l <"$T/sipp_len.psv") calls," \
	"$(wc -l <"$T/both.psv") of them billed; want $N"
read -r bad worst lmin lmax < <(awk -F'|' -v len="$LEN" '
	{ d = $3 - $2; if (d < 0) d = -d; if (d > 50) bad++; if (d > worst) worst = d
	  if (!lmin || $2 < lmin) lmin = $2; if ($2 > lmax) lmax = $2 }
	END { print bad + 0, worst + 0, lmin, lmax }' "$T/both.psv")
[ "$bad" = 0 ] || die "$bad records with duration off by > 50 ms from sipp's call length" \
	"(worst $worst ms)"
ok "every duration within 50 ms of the call length sipp measured (worst $worst ms;" \
	"sipp's lengths $lmin..$lmax ms for -d $LEN)"

bad=$(sql "$T/rs.db" "select count(*) from cdr where tenant is not 'acme' or profile is not
	'acme-ivr' or lrg is not 'ivr' or service_type is not 'voicexml' or node is not 'rm-test'
	or dnis is not '1000' or ended_by is not 'caller' or attempts != 1 or caller is not 'sipp'")
[ "$bad" = 0 ] || die "$bad records with a wrong tenant/profile/lrg/node/dnis/ended_by"
# the MCPs' -trace_counts files are written every second
wait_for 5 eval '[ $(($(uas_calls mcp1) + $(uas_calls mcp2))) -ge '"$N"' ]' || true
for m in 1 2; do
	port=$(eval echo "\$M$m")
	got=$(sql "$T/rs.db" "select count(*) from cdr where mcp = 'sip:127.0.0.1:$port'")
	want=$(uas_calls "mcp$m")
	[ "$got" = "$want" ] && [ "$got" -gt 0 ] ||
		die "MCP $m: $got records name it, it received $want INVITEs"
done
ok "tenant acme, profile acme-ivr, LRG ivr; MCP column matches each MCP's INVITEs"

ev=$(sql "$T/rs.db" "select count(*) from events")
[ "$ev" = $((3 * N)) ] || die "events: $ev, want $((3 * N)) (start, answer, end per call)"
for ty in call.start call.answer call.end; do
	c=$(sql "$T/rs.db" "select count(distinct json_extract(body, '\$.call_id')) from events
		where json_extract(body, '\$.type') = '$ty'")
	[ "$c" = "$N" ] || die "$ty events for $c calls, want $N"
done
ok "one call.start, call.answer and call.end event per call in rs"
[ "$(mval "$HP" rm_spool_depth)" = 0 ] || die "spool not empty: $(mval "$HP" rm_spool_depth)"

kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
ok "rm drained and exited cleanly"
