# Shared by rest-diff.sh and ws-diff.sh (sourced first, not run). Sets $root, $python and the
# reference to compare with ($ref, $tools, $captures: $ZAQAR_REFERENCE, else ../shared/reference
# next to the checkout, else the vendored copy in test/fixtures/compat/reference). Its functions
# use the caller's $out and norm(); compare() sets $status to 1 when a comparison differs.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
python=${PYTHON:-/usr/bin/python3}

if [ -n "${ZAQAR_REFERENCE:-}" ]; then
  ref=$ZAQAR_REFERENCE
elif [ -d "$root/../shared/reference/capture-tools" ]; then
  ref=$root/../shared/reference
else
  ref=$root/test/fixtures/compat/reference
fi
tools=$ref/capture-tools
captures=$ref/captures

status=0

# Runs a capture tool into $out/$2; a failing tool is fatal (exit 2).
capture() {
  local tool=$1 file=$2; shift 2
  if ! "$python" "$tools/$tool" "$@" > "$out/$file" 2> "$out/$file.stderr"; then
    echo "$tool failed (exit $?); stderr:" >&2
    cat "$out/$file.stderr" >&2
    exit 2
  fi
}

# Prints the unified diff of the normalised real and our transcripts of one part.
compare() {
  local part=$1 real=$2 ours=$3
  echo "## $part"
  if ! diff -u --label "real/$part" --label "ours/$part" <(norm "$real") <(norm "$ours"); then
    status=1
  fi
}
