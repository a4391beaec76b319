#!/usr/bin/env bash
# rm admission (issue 3, acceptance 5): a profile limit of 10 and 20 concurrent long
# calls: exactly 10 are refused with the configured code (486 here) and /metrics
# counts them under reason "profile-limit". A second round of the same 20 calls once
# the first has ended must again admit exactly 10: usage that is never released on
# hang-up would refuse them all.
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"g\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"},{\"uri\":\"sip:127.0.0.1:$M2\"}]}]" \
	"$(rm_default_profile g ', "limits": {"l1": 8, "l2": 9, "l3": 10}'),
  \"reject\": {\"code\": 503, \"retry_after\": 5,
             \"reasons\": {\"profile-limit\": {\"code\": 486, \"retry_after\": 0}}}"
uas_start m1 "$M1" uas_rr.xml
uas_start m2 "$M2" uas_rr.xml
rm_start "$T/rm.json" "$HP"
wait_metric "$HP" rm_mcps_up -eq 2 10 || die "MCPs not up"

uac_run long "$SP" uac_rr.xml 20 200 30 -d 3000 || true
[ "$OK" = 10 ] && [ "$FAILED" = 10 ] || die "admission: $OK admitted, $FAILED refused (want 10/10)"
n486=$(grep -o "Call-Id '[^']*'.*received 'SIP/2.0 486" "$T/long.err" | cut -d"'" -f2 | sort -u | wc -l)
[ "$n486" = 10 ] || die "refusals were not all 486: $n486 x 486 in $T/long.err"
r=$(metric "$HP" 'rm_rejects_total{reason="profile-limit"}')
[ "${r%.*}" = 10 ] || die "/metrics counts $r profile-limit refusals"
a=$(metric "$HP" rm_calls_active)
[ "${a%.*}" = 0 ] || die "$a calls still active after the load"
ok "limit 10, 20 concurrent calls: 10 admitted, 10 refused with 486, /metrics rejects=$r"

p=$(metric "$HP" 'rm_profile_calls_active{profile="default"}')
[ "${p%.*}" = 0 ] || die "profile usage not released after the calls ended: $p"
uac_run again "$SP" uac_rr.xml 20 200 30 -d 3000 || true
[ "$OK" = 10 ] && [ "$FAILED" = 10 ] || die "second round: $OK admitted, $FAILED refused (want 10/10): usage leaked"
ok "second round after hang-up: 10 admitted again, profile usage back to 0"
