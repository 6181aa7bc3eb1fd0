# Shared by rest-diff.sh and ws-diff.sh (sourced, not run). Uses the caller's $python, $tools
# and $out, and its norm() function; sets $status to 1 when a comparison differs.

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
