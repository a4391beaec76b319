#!/usr/bin/env bash
# rs's dashboard at / in headless Chromium (Debian's chromium + chromium-driver +
# python3-selenium), SQLite, records over raw-socket STOMP:
#  - / and /ui/* are the embedded files (uPlot included, no network), other paths 404;
#  - the live usage table equals /ems-rs/RT/tenants/usage (a screenshot is taken);
#  - the peaks chart and the CDR search (pages 1 and 2, CSV link) equal the report
#    API's answers (/ems-rs/operations/peaks/RM, /ems-rs/HIST/CDRs/RM/details).
. "$(dirname "$0")/lib/rs.sh"
sp=$(free_port); hp=$(free_port)
rs_sqlite_config "$T/rs.json" "$sp" "$hp" "$T/rs.db"
rs_start "$T/rs.json" "$sp"
peer() { /usr/bin/python3 "$HELPERS/rt_usage_peer.py" "$@"; }
code() { curl -s -m 5 -o /dev/null -w '%{http_code} %{content_type}' "http://127.0.0.1:$hp$1"; }

case "$(code /)" in "200 text/html"*) ;; *) die "/: $(code /)" ;; esac
case "$(code /ui/uPlot.iife.min.js)" in "200 text/javascript"*) ;; *) die "uPlot: $(code /ui/uPlot.iife.min.js)" ;; esac
case "$(code /ui/app.css)" in "200 text/css"*) ;; *) die "app.css" ;; esac
case "$(code /ui/nope.js)" in "404 "*) ;; *) die "/ui/nope.js: $(code /ui/nope.js)" ;; esac
case "$(code /nope)" in "404 "*) ;; *) die "/nope: $(code /nope)" ;; esac
curl -s "http://127.0.0.1:$hp/" | grep -q "Live usage" || die "the page"
ok "/ and /ui/* are served from rs itself; other paths 404"

peer feed "$sp" d || die "feeding the scenario"
peer cdrs "$sp" gamma 5 || die "5 CDRs for gamma"
timeout 90 /usr/bin/python3 "$HELPERS/dashboard_check.py" "$hp" "$T" >"$T/check.log" 2>&1 \
	|| die "dashboard: $(tail -5 "$T/check.log")"
cat "$T/check.log"
[ -s "$T/dashboard.png" ] || die "no screenshot"
ok "the dashboard shows the API's numbers (screenshot $T/dashboard.png)"
