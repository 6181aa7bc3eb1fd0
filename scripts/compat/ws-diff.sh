#!/usr/bin/env bash
# Diff our WebSocket API against the stored captures of real Zaqar 15.0.0.
#
# Usage: scripts/compat/ws-diff.sh [options] WS_PORT REST_PORT [PART...]
#   PART     ws | roundtrip | auth | roundtrip-auth | all   (default and all: ws roundtrip)
#            auth, roundtrip-auth: the bridge must authenticate with the captures' token
#            backend (`good-<secs>` tokens of project proj-auth; ws-compat.test.ts builds one)
#   --host H        WebSocket host of the running bridge (default 127.0.0.1)
#   --rest-host H   its REST host, used once by ws_capture.py (default: --host)
#   --raw           only normalize.sh, without the compat filter below
#   --out DIR       keep our captures in DIR (default: a temp dir, removed on exit)
#
# Builds and starts nothing: a bridge must already listen on HOST:WS_PORT (and REST_PORT).
# Each PART runs the matching capture tool against it, normalises both sides with the
# reference's normalize.sh, then with the compat filter (unless --raw), and prints
# `diff -u real ours` under a `## PART` heading. Exit status: 0 no difference,
# 1 differences, 2 a tool failed.
#
# Reference folder: $ZAQAR_REFERENCE, else ../shared/reference next to the checkout, else
# the copy in test/fixtures/compat/reference. Python: $PYTHON, default /usr/bin/python3
# (Debian's, which has python3-websocket and python3-msgpack).
#
# The compat filter removes only what is not the API (docs/compatibility.md, "WebSocket"):
#   * the capture's title line, which names the server it ran against;
#   * the port in the subscriber URL of WebSocket subscriptions (`http://HOST:PORT/<uuid>`):
#     real Zaqar puts its notification listener's port there (9001 in the captures), we
#     put our WebSocket port; the URL is an opaque record, no client dials it.
# Everything else, including the subscription_list order (by subscription id on both sides,
# so it follows the ids a run generates), is compared as captured.
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

host=127.0.0.1 rest_host='' raw=0 out='' ws_port='' rest_port='' parts=()
while [ $# -gt 0 ]; do
  case $1 in
    --host) host=$2; shift 2 ;;
    --rest-host) rest_host=$2; shift 2 ;;
    --raw) raw=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *)
      if [ -z "$ws_port" ]; then ws_port=$1
      elif [ -z "$rest_port" ]; then rest_port=$1
      else parts+=("$1"); fi
      shift ;;
  esac
done
[ -n "$ws_port" ] && [ -n "$rest_port" ] || usage
[ -n "$rest_host" ] || rest_host=$host
[ ${#parts[@]} -gt 0 ] || parts=(ws roundtrip)
[ "${parts[*]}" != all ] || parts=(ws roundtrip)

if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
else
  mkdir -p "$out"
fi

# normalize.sh, then (unless --raw) the compat filter described above.
norm() {
  if [ "$raw" = 1 ]; then "$tools/normalize.sh" "$1"; return; fi
  "$tools/normalize.sh" "$1" | sed -E \
    -e '1s/^# WebSocket capture against .* \(queue (wqN)\)$/# WebSocket capture against <server> (queue \1)/' \
    -e '1s/^# websocket round trip on .* \(queue (rtN)\)$/# websocket round trip on <server> (queue \1)/' \
    -e "s#([\"']subscriber[\"']: [\"']http://[^:/\"']+):[0-9]+/<uuid>([\"'])#\1:<port>/<uuid>\2#g"
}


for part in "${parts[@]}"; do
  case $part in
    ws)
      capture ws_capture.py ws.md --host "$host" --rest-host "$rest_host" "$ws_port" "$rest_port"
      compare ws "$captures/websocket-transcript.md" "$out/ws.md" ;;
    roundtrip)
      capture ws_roundtrip.py roundtrip.md --host "$host" "$ws_port"
      compare roundtrip "$captures/websocket-roundtrip-noauth.md" "$out/roundtrip.md" ;;
    auth)
      capture ws_auth_capture.py auth.md --host "$host" "$ws_port"
      compare auth "$captures/websocket-auth-transcript.md" "$out/auth.md" ;;
    roundtrip-auth)
      capture ws_roundtrip.py roundtrip-auth.md --host "$host" "$ws_port" good-3600
      compare roundtrip-auth "$captures/websocket-roundtrip-auth.md" "$out/roundtrip-auth.md" ;;
    *) echo "unknown part $part" >&2; usage ;;
  esac
done
exit $status
