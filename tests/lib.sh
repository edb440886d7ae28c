# The prologue the CLI shell tests share: the binary under test in $R, a work
# directory $W removed on exit, and check DESCRIPTION CONDITION, which prints
# ok/FAIL and sets fail=1 on a failure (the script ends with `exit $fail`).
# usage: . "$(dirname "$0")/../lib.sh" NAME   (NAME goes into the work dir's name)
set -uo pipefail
R=${RETORT:?set RETORT to the retort binary}
W=$(mktemp -d "/tmp/retort-$1-XXXXXX")
trap 'rm -rf "$W"' EXIT
fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
