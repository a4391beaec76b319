#!/usr/bin/env bash
# rm's command line: --help, --version, --check-config (good file, bad file, stdin)
# and a missing -c.
. "$(dirname "$0")/lib/rm.sh"

"$RM_BIN" --help | grep -q -- "--check-config" || die "--help does not list --check-config"
ok "--help"
"$RM_BIN" --version | grep -Eq '^rm [0-9]+\.[0-9]+' || die "--version"
ok "--version"
SP=$(free_port); HP=$(free_port)
rm_write_config "$T/good.json" "$SP" "$HP" \
	'[{"name":"ivr","members":[{"uri":"sip:127.0.0.1:5070"}]}]' "$(rm_default_profile ivr)"
"$RM_BIN" --check-config "$T/good.json" | grep -q OK || die "--check-config on a good file"
"$RM_BIN" --check-config - <"$T/good.json" | grep -q OK || die "--check-config on stdin"
ok "--check-config accepts a good file (and stdin)"
sed 's/"lrg": "ivr"/"lrg": "nope"/' "$T/good.json" >"$T/bad.json"
if "$RM_BIN" --check-config "$T/bad.json" 2>"$T/bad.err"; then die "bad config accepted"; fi
grep -q "bad.json" "$T/bad.err" || die "error does not name the file: $(cat "$T/bad.err")"
ok "--check-config refuses a bad file: $(head -c 150 "$T/bad.err")"
if "$RM_BIN" >/dev/null 2>&1; then die "rm without -c should fail"; fi
ok "no -c is an error"
