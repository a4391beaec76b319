#!/usr/bin/env bash
# Liveness tells the truth (issue 10): /healthz fails when rm's SIP thread stops
# turning its loop, and SIGTERM still stops rm then.
#
# How the SIP thread is stopped: a real stop of that one thread, nothing rm does for
# the test. rm names it "rm-sip"; ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT, the way gdb
# stops one thread in non-stop mode) holds that thread while every other thread runs
# (SIGSTOP would stop them all). tests/integration/lib/thread_stop.py does it.
#   1. /healthz 200 while idle;
#   2. SIP thread held 3 s (http.watchdog_s 1): /healthz turns 503 within 2.5 s, and
#      comes back to 200 once the thread runs again;
#   3. held again, SIGTERM: rm exits within 4 s with a log line saying why.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" \
	"[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" \
	"$(rm_default_profile g), \"session\": {\"drain_timeout_s\": 30}"
sed -i 's/"http": { "listen": "127.0.0.1",/"http": { "listen": "127.0.0.1", "watchdog_s": 1,/' "$T/rm.json"
rm_start "$T/rm.json" "$HP"

sip_tid() {
	for f in /proc/"$RM_PID"/task/*/comm; do
		[ "$(cat "$f" 2>/dev/null)" = rm-sip ] && { basename "$(dirname "$f")"; return 0; }
	done
	return 1
}
TID=""
for _ in $(seq 50); do TID=$(sip_tid) && break; sleep 0.1; done
[ -n "$TID" ] || die "no thread named rm-sip in rm"

for _ in $(seq 30); do http_get "$HP" /healthz >/dev/null && break; sleep 0.1; done
http_get "$HP" /healthz >/dev/null || die "/healthz is not 200 on an idle rm"
ok "/healthz 200 while the SIP thread runs"

# 2. hold the SIP thread for 3 s
/usr/bin/python3 "$HELPERS/thread_stop.py" "$TID" 3 >"$T/stop1.log" 2>&1 &
STOPPER=$!
bg_pid $STOPPER
t0=$(date +%s%N); seen=""
for _ in $(seq 25); do
	if ! body=$(http_get "$HP" /healthz); then seen=$body; break; fi
	sleep 0.1
done
t1=$(date +%s%N)
[ -n "$seen" ] || die "/healthz stayed 200 while the SIP thread was held ($(cat "$T/stop1.log"))"
ok "/healthz 503 after $(((t1 - t0) / 1000000))ms of a held SIP thread: $seen"
wait "$STOPPER" || die "thread_stop.py failed: $(cat "$T/stop1.log")"
for _ in $(seq 30); do http_get "$HP" /healthz >/dev/null && break; sleep 0.1; done
http_get "$HP" /healthz >/dev/null || die "/healthz did not come back once the SIP thread ran again"
ok "/healthz back to 200 once the SIP thread runs"

# 3. held SIP thread + SIGTERM: rm must exit by itself, with a reason in the log
/usr/bin/python3 "$HELPERS/thread_stop.py" "$TID" 15 >"$T/stop2.log" 2>&1 &
bg_pid $!
for _ in $(seq 30); do http_get "$HP" /healthz >/dev/null || break; sleep 0.1; done
# rm has exited when it is gone or a zombie: while thread_stop.py still traces the
# held thread, the kernel keeps the dead process until the tracer lets go
rm_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$RM_PID/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
t0=$(date +%s%N)
kill -TERM "$RM_PID"
for _ in $(seq 40); do rm_alive || break; sleep 0.1; done
t1=$(date +%s%N)
rm_alive && die "rm ignored SIGTERM for 4 s with its SIP thread held"
grep -q "exiting without it" "$T/rm.log" || die "no log line says why rm exited"
ok "SIGTERM with a held SIP thread: rm exited in $(((t1 - t0) / 1000000))ms: $(grep -m1 'exiting without it' "$T/rm.log" | cut -c1-160)"
