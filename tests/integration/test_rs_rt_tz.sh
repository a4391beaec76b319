#!/usr/bin/env bash
# rs real-time usage in a tenant's time zone (tz=, IANA name): "today" and "this
# hour" start at the zone's midnight and hour, not UTC's. Calls of tenant zulu around
# a day's edge: the last whole UTC hour is midnight in zone Etc/GMT-N (N picked now),
# three calls ended before it, one carried over it, one started after it, one carried
# over it and ended after it (by its CDR only). For that zone, Asia/Kolkata (+05:30)
# and UTC, in_progress and arrivals (today, this hour) equal a brute-force count over
# the calls (lib/rt_usage_peer.py tzcheck); after a restart the rebuild (fed in time
# order) gives the exact peak since the zone's midnight too. tz=Bad/../x is 400.
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
rs_sqlite_config "$T/rs.json" "$sp" "$hp" "$T/rs.db"
rs_start "$T/rs.json" "$sp"
peer() { /usr/bin/python3 "$HELPERS/rt_usage_peer.py" "$@"; }

now=$(date +%s%3N)
edge=$((now - now % 3600000))
h=$(( (edge / 3600000) % 24 ))
# the zone whose midnight is edge: UTC+(24-h) or UTC-h (Etc/GMT signs are reversed)
o=$(( (24 - h) % 24 )); [ "$o" -gt 14 ] && o=$((o - 24))
if [ "$o" -gt 0 ]; then zone="Etc/GMT-$o"; elif [ "$o" -lt 0 ]; then zone="Etc/GMT+$((-o))"; else zone=UTC; fi
peer tzfeed "$sp" "$edge" "$now" || die "feeding the calls"
for z in "$zone" Asia/Kolkata -; do
	peer tzcheck "$hp" "$z" "$edge" "$now" || die "live numbers in $z"
done
ok "live: in_progress and arrivals today / this hour equal the truth in $zone, Asia/Kolkata and UTC"

kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
rs_start "$T/rs.json" "$sp" rs2
wait_for 10 grep -q "real-time usage rebuilt" "$T/rs2.log" || die "no rebuild: $(grep real-time "$T/rs2.log")"
for z in "$zone" Asia/Kolkata -; do
	out=$(peer tzcheck "$hp" "$z" "$edge" "$now" exact) || die "after the rebuild in $z: $out"
	echo "$out"
done
ok "after a restart: every number, the peak since the zone's midnight included, equals the truth"

for bad in Mars/Olympus ../etc/passwd %2e%2e%2fetc%2fpasswd "Europe/Paris%20x"; do
	r=$(curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$hp/ems-rs/RT/tenants/usage?tz=$bad")
	case "$r" in *"'tz'"*" 400") ;; *) die "tz=$bad: $r" ;; esac
done
ok "an unknown or malformed tz= is 400 naming the parameter"
# typed unencoded, a '+' in a query is a space: "Etc/GMT+7" arrives as "Etc/GMT 7"
raw=$(curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$hp/ems-rs/RT/tenants/usage?tz=Etc/GMT+7")
enc=$(curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$hp/ems-rs/RT/tenants/usage?tz=Etc%2FGMT%2B7")
case "$raw" in *" 200") ;; *) die "tz=Etc/GMT+7 unencoded: $raw" ;; esac
[ "$raw" = "$enc" ] || die "tz=Etc/GMT+7 unencoded '$raw' differs from encoded '$enc'"
ok "tz=Etc/GMT+7 typed unencoded answers as the encoded name"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
