#!/usr/bin/env bash
# rs real-time usage (/ems-rs/RT/...), SQLite, events and CDRs sent over raw-socket
# STOMP with receipts (tests/integration/lib/rt_usage_peer.py has the scenario):
#  - per tenant and per component the numbers equal the scenario's, duplicates and the
#    CDR fallback for a lost call.end included;
#  - CSV and XML by format= and by Accept; an unknown format is 400 naming it;
#  - tokens: a tenant's token sees its tenant only (403 for another, 403 on
#    components), an unknown token is 401, the admin token sees all;
#  - the report endpoints honour the same tokens (api_auth): acme's token gets acme's
#    records only (not gamma's), 403 for tenant-id=beta, 401 for an unknown token;
#  - the whole scenario sent again changes nothing;
#  - after a restart the numbers are rebuilt from the database;
#  - env RS_API_TOKENS replaces api.tokens (and a bad one is refused at start).
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
ADMIN=admin-token-0123456789; ACME=acme-token-0123456789
cat >"$T/rs.json" <<JSON
{ "stomp": { "listen": "127.0.0.1", "port": $sp },
  "http": { "listen": "127.0.0.1", "port": $hp },
  "storage": { "backend": "sqlite", "sqlite": { "path": "$T/rs.db" } },
  "journal": { "dir": "$T/journal" },
  "api": { "tokens": [ { "token": "$ADMIN", "tenant": "*" },
                       { "token": "$ACME", "tenant": "acme" } ] } }
JSON
rs_start "$T/rs.json" "$sp"
peer() { /usr/bin/python3 "$HELPERS/rt_usage_peer.py" "$@"; }
# get PATH [curl args...]: "CODE BODY" of a GET
get() {
	local p=$1 out; shift
	out=$(curl -s -m 5 -w '\n%{http_code}' "$@" "http://127.0.0.1:$hp$p")
	echo "${out##*$'\n'} ${out%$'\n'*}" | tr '\r\n' '  '
}

t0=$(date +%s%3N)
peer feed "$sp" s "$t0" || die "feeding the scenario"
peer check "$hp" || die "numbers after the scenario (anonymous on loopback = admin)"
peer check "$hp" "$ADMIN" || die "numbers with the admin token"
ok "tenant and component usage equal the scenario's (duplicate event, CDR fallback)"

r=$(get "/ems-rs/RT/tenants/usage?format=csv")
case "$r" in "200 "*"tenant,in_progress,arrivals_this_hour,arrivals_today,peak_today,peak_today_at"*"acme,1,"*"beta,2,"*) ;;
	*) die "CSV by format=: $r" ;; esac
r=$(get /ems-rs/RT/components/usage -H "Accept: text/csv")
case "$r" in "200 type,id,"*"RM,rm-1,3,"*) ;; *) die "CSV by Accept: $r" ;; esac
r=$(get /ems-rs/RT/tenants/usage -H "Accept: application/xml")
case "$r" in *'<tenant name="acme"><in_progress>1</in_progress>'*) ;; *) die "XML by Accept: $r" ;; esac
r=$(get "/ems-rs/RT/components/usage?format=xml")
case "$r" in *'<component type="MCP" id="sip:mcp2"><in_progress>1<'*) ;; *) die "XML by format=: $r" ;; esac
r=$(get "/ems-rs/RT/tenants/usage?format=yaml")
case "$r" in "400 "*"'format'"*) ;; *) die "unknown format: $r" ;; esac
ok "CSV and XML by format= and Accept; format=yaml is 400 naming the parameter"

r=$(get /ems-rs/RT/tenants/usage -H "Authorization: Bearer $ACME")
case "$r" in "200 "*'"acme"'*) case "$r" in *beta*) die "acme's token saw beta: $r" ;; esac ;;
	*) die "acme's token: $r" ;; esac
r=$(get "/ems-rs/RT/tenants/usage?token=$ACME&tenant-id=beta")
case "$r" in "403 "*) ;; *) die "acme's token asking for beta: $r" ;; esac
r=$(get /ems-rs/RT/components/usage -H "Authorization: Bearer $ACME")
case "$r" in "403 "*) ;; *) die "acme's token on components: $r" ;; esac
r=$(get /ems-rs/RT/tenants/usage -H "Authorization: Bearer wrong-token-0123456789")
case "$r" in "401 "*) ;; *) die "unknown token: $r" ;; esac
r=$(get "/ems-rs/RT/tenants/usage?tenant-id=beta" -H "Authorization: Bearer $ADMIN")
case "$r" in "200 "*'"beta"'*) case "$r" in *acme*) die "tenant-id=beta: $r" ;; esac ;;
	*) die "admin with tenant-id=beta: $r" ;; esac
ok "a tenant's token sees its tenant only; unknown token 401; admin sees all"

from=$(date -u -d '-2 hour' +%Y-%m-%dT%H:00:00Z)
d="/ems-rs/HIST/CDRs/RM/details?from=$from"
r=$(get "$d")
case "$r" in "200 "*'"records"'*) ;; *) die "details as admin: $r" ;; esac
peer cdrs "$sp" gamma 1 rm-9 || die "a CDR for gamma" # rm-9: rm-1's numbers stay
r=$(get "$d" -H "Authorization: Bearer $ACME")
case "$r" in "200 "*'"tenant": "acme"'*|"200 "*'"tenant":"acme"'*) ;; *) die "details, acme's token: $r" ;; esac
case "$r" in *gamma*) die "details: acme's token saw gamma: $r" ;; esac
r=$(get "$d&tenant-id=beta" -H "Authorization: Bearer $ACME")
case "$r" in "403 "*) ;; *) die "details: acme's token asking for beta: $r" ;; esac
r=$(get "$d&dn=1*" -H "Authorization: Bearer $ACME")
case "$r" in "403 "*) ;; *) die "details: acme's token with a dn filter (may span tenants): $r" ;; esac
r=$(get "/ems-rs/operations/peaks/RM?from=$from" -H "Authorization: Bearer wrong-token-0123456789")
case "$r" in "401 "*) ;; *) die "peaks with an unknown token: $r" ;; esac
ok "the report endpoints honour the same tokens"

peer feed "$sp" s "$t0" || die "feeding the scenario again"
peer check "$hp" || die "the same records sent again changed the numbers"
ok "the scenario sent again changes nothing"

kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
BETA=beta-token-0123456789
RS_API_TOKENS="beta:$BETA" rs_start "$T/rs.json" "$sp" rs2
wait_for 10 grep -q "real-time usage rebuilt" "$T/rs2.log" || die "no rebuild: $(grep real-time "$T/rs2.log")"
grep -Eq "rebuilt from 8 events and [12] CDRs" "$T/rs2.log" || die "rebuild: $(grep rebuilt "$T/rs2.log")"
peer check "$hp" || die "numbers after a restart"
ok "after a restart the numbers are rebuilt from the database"
r=$(get /ems-rs/RT/tenants/usage -H "Authorization: Bearer $BETA")
case "$r" in "200 "*'"beta"'*) case "$r" in *acme*) die "beta's token saw acme: $r" ;; esac ;;
	*) die "beta's token from RS_API_TOKENS: $r" ;; esac
r=$(get /ems-rs/RT/tenants/usage -H "Authorization: Bearer $ACME")
case "$r" in "401 "*) ;; *) die "api.tokens should be replaced by RS_API_TOKENS: $r" ;; esac
out=$(RS_API_TOKENS="acme:short" "$BIN/rs" --check-config "$T/rs.json" 2>&1) && die "a bad RS_API_TOKENS passed"
case "$out" in *RS_API_TOKENS*) ;; *) die "bad RS_API_TOKENS: $out" ;; esac
ok "env RS_API_TOKENS replaces api.tokens; a bad one is refused naming it"
