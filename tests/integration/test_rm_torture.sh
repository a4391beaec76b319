#!/usr/bin/env bash
# The RFC 4475 section 3 torture corpus (tests/integration/data/torture, written from
# the RFC's text) against rm, over UDP and over TCP (issue 10, item 4): each message
# gets the answer listed in EXPECT (or silence where a message cannot be parsed),
# valid ones reach the MCP (sip_peer.py), none crashes rm, and rm completes normal
# sipp calls afterwards. Runs inside its own network namespace with only loopback
# up (unshare -n), so nothing a torture message names can be reached.
if [ -z "${RM_TORTURE_NETNS:-}" ]; then
	exec unshare -n env RM_TORTURE_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
. "$(dirname "$0")/lib/rm.sh"

SP=$(free_port); HP=$(free_port); M1=$(free_port); M2=$(free_port)
rm_write_config "$T/rm.json" "$SP" "$HP" "[
  {\"name\":\"peer\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M1\"}]},
  {\"name\":\"sipp\",\"members\":[{\"uri\":\"sip:127.0.0.1:$M2\"}]}]" \
	"$(rm_default_profile peer)"
# torture INVITEs go to the python peer; the normal calls (DNIS 5555) to a sipp MCP
/usr/bin/python3 - "$T/rm.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["profiles"].append({"name": "call", "tenant": "default", "lrg": "sipp"})
c["dnis"] = {"5555": "call"}
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
"$RM_BIN" --check-config "$T/rm.json" >/dev/null || die "config refused: $(cat "$T/rm.json")"
/usr/bin/python3 "$HELPERS/sip_peer.py" 127.0.0.1 "$M1" "$T/mcp.jsonl" & bg_pid $!
touch "$T/mcp.jsonl"
uas_start mcp_sipp "$M2" uas_rr.xml u1
rm_start "$T/rm.json" "$HP"
for i in $(seq 1 50); do v=$(metric "$HP" rm_mcps_up); [ "${v%.*}" = 2 ] && break; sleep 0.1; done
[ "${v%.*}" = 2 ] || die "MCPs not up ($v)"

rc=0
/usr/bin/python3 "$HELPERS/torture.py" "$TOP/tests/integration/data/torture" \
	"$SP" "$T/mcp.jsonl" | tee "$T/torture.out" || rc=$?
kill -0 "$RM_PID" 2>/dev/null || die "rm died during the torture corpus"
[ "$rc" = 0 ] || die "$(grep -c '^BAD' "$T/torture.out") torture results differ from EXPECT"
ok "$(grep -c '^ok' "$T/torture.out") torture exchanges as expected (UDP and TCP)"
grep -q '"garbled": true' "$T/mcp.jsonl" && die "rm forwarded a garbled message to the MCP"
/usr/bin/python3 - "$T/mcp.jsonl" <<'PY' || die "a forwarded message has rm's header glued onto another line"
import json, sys
for l in open(sys.argv[1]):
    for line in json.loads(l)["raw"].split("\r\n"):
        if "X-Genesys-GVP-Session-ID" in line and not line.startswith("X-Genesys-GVP-Session-ID:"):
            print("glued:", line[:120]); sys.exit(1)
PY

uac_run after "$SP" uac_rr.xml 20 20 15 -d 10 -s 5555 || true
[ "$OK" = 20 ] && [ "$FAILED" = 0 ] || die "after the corpus: $OK of 20 calls, $FAILED failed"
ok "rm still up and completes 20 calls after the corpus"
