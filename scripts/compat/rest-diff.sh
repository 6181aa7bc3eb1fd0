#!/usr/bin/env bash
# Diff our REST API against the stored captures of real Zaqar 15.0.0.
#
# Usage: scripts/compat/rest-diff.sh [options] PORT [PART...]
#   PART     rest | zaqarclient | dlq | hook | all   (default: rest zaqarclient dlq)
#   --host H        REST host of the running bridge (default 127.0.0.1)
#   --hook-host A   address hook_capture.py listens on and subscribes (default 127.0.0.1)
#   --hook-port P   its port (default 9123)
#   --raw           only normalize.sh, without the compat filter below
#   --out DIR       keep our captures in DIR (default: a temp dir, removed on exit)
#
# Builds and starts nothing: a bridge must already listen on HOST:PORT. Each PART runs the
# matching capture tool against it, normalises both sides with the reference's normalize.sh,
# then with the compat filter (unless --raw), and prints `diff -u real ours` under a
# `## PART` heading. Exit status: 0 no difference, 1 differences, 2 a tool failed.
#
# Reference folder: $ZAQAR_REFERENCE, else ../shared/reference next to the checkout, else
# the copy in test/fixtures/compat/reference. Python: $PYTHON, default /usr/bin/python3
# (Debian's, which has python3-websocket, python3-msgpack, python3-zaqarclient).
#
# The compat filter removes only what is not the API (docs/compatibility.md, "REST"):
#   * the capture's title line, which names the server it ran against;
#   * response headers `Connection` and `Keep-Alive`: Node speaks HTTP/1.1 keep-alive,
#     the real server (wsgiref) HTTP/1.0 and closes after each response;
#   * `Content-Length: 0` on 204 responses: wsgiref adds it, RFC 9110 §8.6 forbids it and
#     fastify never sends it;
#   * the webhook listener's port in `hook` output;
#   * the value of a lower-case `content-length` request header in `hook` output (Node's
#     fetch sends that name in lower case; normalize.sh only masks `Content-Length`).
set -euo pipefail

# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

host=127.0.0.1 hook_host=127.0.0.1 hook_port=9123 raw=0 out='' port='' parts=()
while [ $# -gt 0 ]; do
  case $1 in
    --host) host=$2; shift 2 ;;
    --hook-host) hook_host=$2; shift 2 ;;
    --hook-port) hook_port=$2; shift 2 ;;
    --raw) raw=1; shift ;;
    --out) out=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "unknown option $1" >&2; usage ;;
    *) if [ -z "$port" ]; then port=$1; else parts+=("$1"); fi; shift ;;
  esac
done
[ -n "$port" ] || usage
[ ${#parts[@]} -gt 0 ] || parts=(rest zaqarclient dlq)
[ "${parts[*]}" != all ] || parts=(rest zaqarclient dlq hook)

if [ -z "$out" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
else
  mkdir -p "$out"
fi

# normalize.sh, then (unless --raw) the compat filter described above.
norm() {
  if [ "$raw" = 1 ]; then "$tools/normalize.sh" "$1"; return; fi
  "$tools/normalize.sh" "$1" | awk '
    NR == 1 && /^# REST capture against / { print "# REST capture against <server> (queue rqN)"; next }
    /^```/ { block = !block; resp = 0; print; next }
    block && $0 == "--" { resp = 1; status = ""; print; next }
    resp && /^HTTP [0-9]+ / { status = $2; print; next }
    resp && $0 == "" { resp = 0; print; next }
    resp && tolower($0) ~ /^(connection|keep-alive): / { next }
    resp && status == "204" && tolower($0) ~ /^content-length: / { next }
    { print }
  ' | sed -E -e 's#http://[0-9.]+:[0-9]+/(plain|tmpl)#http://<hook>/\1#g' -e "s/('content-length': ')[0-9]+/\1N/g"
}


for part in "${parts[@]}"; do
  case $part in
    rest)
      capture rest_capture.py rest.md --host "$host" "$port"
      compare rest "$captures/rest-v2-transcript.md" "$out/rest.md" ;;
    zaqarclient)
      capture zaqarclient_rest_check.py zaqarclient.txt "http://$host:$port"
      compare zaqarclient "$captures/zaqarclient-rest-check.txt" "$out/zaqarclient.txt" ;;
    dlq)
      capture dlq_probe.py dlq.txt --host "$host" "$port"
      grep -v -e 'hookq' -e '^HOOK ' "$captures/webhook-and-dlq.txt" > "$out/dlq.real.txt"
      compare dlq "$out/dlq.real.txt" "$out/dlq.txt" ;;
    hook)
      capture hook_capture.py hook.txt --host "$host" --hook-host "$hook_host" --hook-port "$hook_port" "$port"
      grep -e 'hookq' -e '^HOOK ' "$captures/webhook-and-dlq.txt" > "$out/hook.real.txt"
      compare hook "$out/hook.real.txt" "$out/hook.txt" ;;
    *) echo "unknown part $part" >&2; usage ;;
  esac
done
exit $status
