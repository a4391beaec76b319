#!/usr/bin/env bash
# rs /ems-rs/RT/stream (Server-Sent Events), SQLite, records over raw-socket STOMP:
#  - a subscriber gets the numbers on connect and again after a change;
#  - a tenant's token streams its tenant only;
#  - at most api.stream_max_subscribers at once: one more is 503;
#  - a subscriber that reads nothing is dropped once its output has stayed pending for
#    RT_STREAM_STALL_MS (3,000 tenants make each update ~400 KB, so the kernel's
#    buffers fill), while rs stays up and a reading subscriber keeps getting updates
#    and a ": heartbeat" comment (every 15 s).
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
ACME=acme-token-0123456789
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" },
  "api": { "stream_max_subscribers": 3,
           "tokens": [ { "token": "$ACME", "tenant": "acme" } ] } }
JSON
rs_start "$T/rs.json" "$sp"
peer() { /usr/bin/python3 "$HELPERS/rt_usage_peer.py" "$@"; }

peer feed "$sp" s || die "feeding the scenario"
peer stream "$hp" - acme 1 5 >"$T/s1.out" || die "first update: $(cat "$T/s1.out")"
grep -q "tenants components" "$T/s1.out" || die "admin stream events: $(cat "$T/s1.out")"
peer stream "$hp" - acme 3 8 >"$T/s2.out" &
s2=$!
# the subscriber connects before the change it waits for
wait_for 5 grep -q subscribed "$T/s2.out" || die "s2 not subscribed: $(cat "$T/s2.out")"
peer calls "$sp" acme 2 || die "two more calls"
wait $s2 || die "no update with 3 acme calls in progress: $(cat "$T/s2.out")"
ok "subscribers get the numbers on connect and after a change"

peer stream "$hp" "$ACME" acme 3 5 >"$T/s3.out" || die "acme's stream: $(cat "$T/s3.out")"
grep -q "components" "$T/s3.out" && die "acme's token got components: $(cat "$T/s3.out")"
ok "a tenant's token streams its tenant only (no components)"

# the heartbeat watcher and the slow reader hold 2 of 3 places
# 33 s: a heartbeat is skipped while the subscriber still has output pending (the
# 3,000-tenant updates below), so the first may be missed; the next is 15 s later
peer heartbeat "$hp" 33 >"$T/hb.out" &
hb=$!
peer slow "$hp" 40 "$T/slow.go" >"$T/slow.out" & # reads once the loop below ends
slow=$!
peer slow "$hp" 20 "$T/s4.go" >"$T/s4.out" & # the third place, held until s4.go
s4=$!
for f in hb slow s4; do
	wait_for 5 grep -q subscribed "$T/$f.out" || die "$f not subscribed: $(cat "$T/$f.out")"
done
code=$(curl -s -m 3 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$hp/ems-rs/RT/stream" || true)
[ "$code" = 503 ] || die "a 4th subscriber got $code, want 503"
touch "$T/s4.go"
wait $s4 || true
ok "at most 3 subscribers (api.stream_max_subscribers): the 4th is 503"

peer tenants "$sp" 3000 || die "3,000 tenants"
# changes until the drop (the kernel's buffers take some MB first; slow under ASan),
# at most ~30 s
for i in $(seq 60); do
	peer calls "$sp" acme 1 >/dev/null || die "changes"
	grep -q "reads too slowly" "$T/rs.log" && break
	sleep 0.4
done
touch "$T/slow.go"
wait $slow || die "slow subscriber: $(cat "$T/slow.out")"
grep -q "dropping a subscriber that reads too slowly" "$T/rs.log" || die "no drop logged"
ok "a subscriber that reads nothing is dropped ($(cat "$T/slow.out"))"
http_get "$hp" /healthz >/dev/null || die "rs not healthy after the drop"
wait $hb || die "heartbeat: $(cat "$T/hb.out")"
ok "a reading subscriber got $(cat "$T/hb.out")"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
