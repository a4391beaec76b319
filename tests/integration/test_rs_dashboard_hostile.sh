#!/usr/bin/env bash
# rs's dashboard in headless Chromium with hostile names in the records: tenants, an
# MCP URI, a CDR's caller and dnis made of markup (<img onerror=...>, "><script>,
# </td></tr><tr>..., <svg onload=...>) arrive over STOMP as any record would; the
# dashboard must show each as text in the live tables and the CDR table, the page
# must gain no element (img, svg, script, a cell of class x) and run no script
# (lib/dashboard_check.py hostile).
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
rs_sqlite_config "$T/rs.json" "$sp" "$hp" "$T/rs.db"
rs_start "$T/rs.json" "$sp"
/usr/bin/python3 "$HELPERS/rt_usage_peer.py" hostile "$sp" || die "feeding the hostile records"
timeout 90 /usr/bin/python3 "$HELPERS/dashboard_check.py" "$hp" "$T" hostile >"$T/check.log" 2>&1 \
	|| die "dashboard: $(tail -5 "$T/check.log")"
cat "$T/check.log"
ok "hostile names are shown as text; nothing injected, no script ran ($T/dashboard-hostile.png)"
kill -TERM "$RS_PID"; wait "$RS_PID" || die "rs exited $? on SIGTERM"
