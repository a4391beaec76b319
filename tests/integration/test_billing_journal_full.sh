#!/usr/bin/env bash
# Journal full end to end (issue 9, item 1): PostgreSQL stopped and rs's journal
# tiny (journal.max_bytes 4096), so rs soon answers rm's SENDs with
# ERROR receipt-id + retryable:true ("journal full"). 60 calls through rm; rm must
# keep every refused record in its spool and retry with back-off. PostgreSQL back:
# exactly 60 rows in cdr, each call once, rm_billing_lost_total 0, nothing
# dead-lettered, rm's spool empty. On the way, raw STOMP probes check rs's side of the
# contract: retryable:false for an invalid record or an unknown destination,
# retryable:true for journal full.
. "$(dirname "$0")/lib/billing.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
RSP=$(free_port); RHP=$(free_port); PP=$(free_port)
N=60
pg_up "$PP"
pq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PP" -U postgres rs -c "$1"; }

cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $RSP },
  "http": { "listen": "127.0.0.1", "port": $RHP },
  "storage": { "backend": "postgresql",
               "postgresql": { "conninfo": "host=127.0.0.1 port=$PP dbname=rs user=postgres" } },
  "writer": { "retry_ms": 200 },
  "journal": { "dir": "$T/journal", "max_bytes": 4096 } }
JSON
rs_start "$T/rs.json" "$RSP"
wait_metric "$RHP" rs_db_up -eq 1 10 || die "rs did not reach PostgreSQL"

# stomp_send DEST BODY: one SEND with receipt "probe" on a raw socket; prints the
# answer's command and headers on one line ("ERROR receipt-id=probe retryable=false").
stomp_send() {
	/usr/bin/python3 - "$RSP" "$1" "$2" <<'PY'
import socket, sys
buf = b""
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    body = sys.argv[3].encode()
    s.sendall(b"CONNECT\naccept-version:1.2\nhost:rs\nheart-beat:0,0\n\n\0")
    s.sendall(b"SEND\ndestination:%s\nreceipt:probe\ncontent-type:application/json\n"
              b"content-length:%d\n\n%s\0" % (sys.argv[2].encode(), len(body), body))
    while buf.count(b"\0") < 2:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    frame = buf.split(b"\0")[1].lstrip(b"\n").split(b"\n\n")[0].decode().split("\n")
    print(" ".join([frame[0]] + sorted(l.replace(":", "=", 1) for l in frame[1:])))
except Exception as e:  # the caller's die names what came back instead
    print("no answer (%r) after %r" % (e, buf))
PY
}
a=$(stomp_send /queue/gvp.cdr '{"id":"probe-1","schema":1}')
case "$a" in ERROR*receipt-id=probe*retryable=false*) ;; *) die "invalid record: $a";; esac
a=$(stomp_send /queue/nowhere '{"id":"probe-2","schema":1}')
case "$a" in ERROR*receipt-id=probe*retryable=false*) ;; *) die "unknown destination: $a";; esac
ok "rs refuses an invalid record and an unknown destination with retryable:false"
rm_up_publishing "127.0.0.1:$RSP"

"$TOP/scripts/pg-stop" "$T/pg"
uac_run calls "$SP" uac_rr.xml "$N" 30 30 -d 100 || true
[ "$OK" = "$N" ] && [ "$FAILED" = 0 ] || die "$OK of $N calls succeeded, $FAILED failed"
[ "$(mval "$HP" rm_billing_records_total)" = "$N" ] || die "rm built" \
	"$(mval "$HP" rm_billing_records_total) records, want $N"
full='rs_records_rejected_total{reason="journal_full"}'
wait_metric "$RHP" "$full" -gt 0 10 || die "rs never refused a record as journal full"
wait_metric "$RHP" "$full" -ge 3 10 || die "rm did not retry the refused records"
a=$(stomp_send /queue/gvp.cdr '{"id":"probe-3","schema":1}')
case "$a" in ERROR*message=journal\ full*receipt-id=probe*retryable=true*) ;;
*) die "journal full: $a";; esac
depth=$(mval "$HP" rm_spool_depth)
[ "$depth" -gt 0 ] || die "rm's spool is empty while rs refuses records"
[ "$(mval "$HP" rm_billing_rejected_total)" = 0 ] || die "rm counted a retryable refusal" \
	"as rejected"
[ ! -e "$T/spool/dead-letter.jsonl" ] || die "rm dead-lettered a retryable refusal:" \
	"$(head -c 300 "$T/spool/dead-letter.jsonl")"
ok "PostgreSQL down, journal full: rs refused $(mval "$RHP" "$full") SENDs (retryable)," \
	"rm keeps $depth spool entries"

"$TOP/scripts/pg-start" "$T/pg" "$PP" || die "pg-start again"
t0=$(date +%s.%N)
wait_metric "$HP" rm_spool_depth -eq 0 30 || die "rm spool not drained"
drained=$(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }")
wait_metric "$RHP" rs_journal_depth -eq 0 10 || die "rs journal not replayed"
for i in $(seq 50); do [ "$(pq 'select count(*) from cdr')" -ge "$N" ] && break; sleep 0.2; done
n=$(pq "select count(*) from cdr")
[ "$n" = "$N" ] || die "PostgreSQL holds $n records, want $N"
d=$(pq "select count(*) - count(distinct call_id) from cdr")
[ "$d" = 0 ] || die "$d call-ids stored twice"
[ "$(mval "$HP" rm_billing_lost_total)" = 0 ] || die "rm_billing_lost_total" \
	"$(mval "$HP" rm_billing_lost_total)"
[ "$(mval "$HP" rm_billing_dead_letter_total)" = 0 ] || die "records dead-lettered"
[ "$(mval "$HP" rm_billing_published_total)" = "$N" ] || die "rm_billing_published_total" \
	"$(mval "$HP" rm_billing_published_total), want $N"
ok "PostgreSQL back: spool drained in $drained s; $n rows = $N calls, each once;" \
	"0 lost, 0 dead-lettered"
kill -TERM "$RM_PID"; wait "$RM_PID" || die "rm exited $? on SIGTERM"
