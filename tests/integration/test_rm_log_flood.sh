#!/usr/bin/env bash
# No input floods rm's log (issue 10, "Log metrics"): 1,000 requests that each make
# rm log a line (in-dialog requests whose Route names a host while sip.dns is "off":
# "cannot forward request: ... does not resolve") and 500 malformed ones (a repeated
# Max-Forwards, answered 400 toward a closed port, which makes sofia-sip log the ICMP
# error) go to rm within about a second. The log grows by a bounded number of lines
# (logging.rate_per_s 20 per message, plus "suppressed" reports), while
# rm_log_messages_total{level="info"} counts every message and
# rm_log_suppressed_total the lines not written.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" \
	"[{\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]}]" "$(rm_default_profile g)"
sed -i 's/"sip_servers"/"dns": "off", "sip_servers"/' "$T/rm.json"
uas_start mcp "$M1" uas_rr.xml u1
rm_start "$T/rm.json" "$HP"
for _ in $(seq 50); do [ "$(metric "$HP" rm_mcps_up)" = 1 ] && break; sleep 0.1; done
info0=$(metric "$HP" 'rm_log_messages_total{level="info"}')
[ -n "$info0" ] || die "rm_log_messages_total is not on /metrics"
lines0=$(wc -l <"$T/rm.log")

cat >"$T/flood.py" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
for i in range(1000):
    s.sendto((f"INFO sip:b@127.0.0.1:{port} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:{s.getsockname()[1]};branch=z9hG4bK-f{i}\r\n"
              f"Route: <sip:127.0.0.1:{port};lr>, <sip:flood.example.com;lr>\r\n"
              f"From: <sip:a@127.0.0.1>;tag=a{i}\r\nTo: <sip:b@127.0.0.1>;tag=b{i}\r\n"
              f"Call-ID: flood-{i}\r\nCSeq: 2 INFO\r\nMax-Forwards: 70\r\n"
              "Content-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
    if i % 20 == 19:
        time.sleep(0.01)  # ~1 s in all: a flood, not a UDP buffer overrun
for i in range(500):
    s.sendto((f"OPTIONS sip:b@127.0.0.1:{port} SIP/2.0\r\n"
              f"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-m{i}\r\n"
              f"From: <sip:a@127.0.0.1>;tag=m{i}\r\nTo: <sip:b@127.0.0.1>\r\n"
              f"Call-ID: mal-{i}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
              "Max-Forwards: 69\r\nContent-Length: 0\r\n\r\n").encode(), ("127.0.0.1", port))
PY
/usr/bin/python3 "$T/flood.py" "$SP"

# every message counted (the service thread publishes the counts once a second)
info1=0
for _ in $(seq 25); do
	info1=$(metric "$HP" 'rm_log_messages_total{level="info"}')
	[ "${info1%.*}" -ge $((${info0%.*} + 1000)) ] && break
	sleep 0.2
done
[ "${info1%.*}" -ge $((${info0%.*} + 1000)) ] ||
	die "rm_log_messages_total{level=\"info\"} grew by $((${info1%.*} - ${info0%.*})), not >= 1000"
ok "rm_log_messages_total{level=\"info\"}: $info0 -> $info1"
# the last second's "suppressed" report is written by the next flush
wait_log "$T/rm.log" "suppressed [0-9]* similar lines" 1 5 || die "no 'suppressed' report in the log"
lines=$(($(wc -l <"$T/rm.log") - lines0))
[ "$lines" -le 300 ] || die "the flood wrote $lines log lines"
supp=$(metric "$HP" rm_log_suppressed_total)
[ "${supp%.*}" -ge 500 ] || die "rm_log_suppressed_total is $supp"
grep -q "suppressed [0-9]* similar lines" "$T/rm.log" || die "no 'suppressed' report in the log"
ok "1,500 hostile requests wrote $lines log lines; $supp suppressed: $(grep -m1 'suppressed [0-9]* similar' "$T/rm.log" | cut -c1-140)"

# rm still serves calls
uac_run after "$SP" uac_rr.xml 5 50 15 -d 10 || true
[ "$OK" = 5 ] || die "rm stopped serving calls after the flood ($OK/5)"
ok "rm still serves calls"
