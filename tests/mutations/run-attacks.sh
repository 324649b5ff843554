#!/usr/bin/env bash
# Shows that the attack suite (tests/FanVote.EndToEnd.Tests/Attacks) catches each attack: for every patch in
# tests/mutations/attacks, on a throw-away worktree of HEAD, switch that one protection off, rebuild, run the rows the
# patch names (each `dotnet test` starts the whole system afresh, as `up` does) and require every one of them to FAIL.
# A patch that no longer applies is an error too (the protection moved: update the patch).
#
#   tests/mutations/run-attacks.sh                 every patch
#   tests/mutations/run-attacks.sh 04 10           the patches whose names start with 04 or 10
#
# Needs what `./fanvote test` needs; takes about 3 minutes per patch on a 2-core machine. Not part of `./fanvote test`
# (it rebuilds the system once per patch); run it when the protections or the attack suite change.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PATCHES="$ROOT/tests/mutations/attacks"
WORK="$(mktemp -d /tmp/fanvote-mutants.XXXXXX)"
REPORT="$WORK/report.md"
cleanup() {
  (cd "$WORK/tree" 2>/dev/null && ./fanvote infra down >/dev/null 2>&1) || true
  git -C "$ROOT" worktree remove --force "$WORK/tree" >/dev/null 2>&1 || true
}
trap cleanup EXIT

git -C "$ROOT" worktree add --detach "$WORK/tree" HEAD >/dev/null
cd "$WORK/tree"
./fanvote infra up >/dev/null
# shellcheck disable=SC1091
source .fanvote/infra/env
echo "building HEAD ($(git rev-parse --short HEAD)) in $WORK/tree"
dotnet build FanVote.sln -nologo -v q >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log"; exit 1; }

selected=()
for p in "$PATCHES"/*.patch; do
  name="$(basename "$p" .patch)"
  if [ $# -eq 0 ]; then selected+=("$p"); continue; fi
  for want in "$@"; do case "$name" in "$want"*) selected+=("$p") ;; esac; done
done
[ ${#selected[@]} -gt 0 ] || { echo "no patch matches: $*" >&2; exit 2; }

{ echo "| protection switched off | row | caught | first failed assertion |"; echo "| --- | --- | --- | --- |"; } >"$REPORT"
bad=0
for p in "${selected[@]}"; do
  name="$(basename "$p" .patch)"
  what="$(sed -n 's/^Protection off: //p' "$p")"
  read -r -a rows <<<"$(sed -n 's/^Rows: //p' "$p")"
  echo "== $name: $what (rows ${rows[*]})"
  if ! git apply "$p"; then
    echo "| $what | - | PATCH DOES NOT APPLY | update $name.patch |" >>"$REPORT"; bad=1; continue
  fi
  if ! dotnet build FanVote.sln -nologo -v q >"$WORK/$name.build.log" 2>&1; then
    echo "| $what | - | DOES NOT BUILD | see $WORK/$name.build.log |" >>"$REPORT"; bad=1; git checkout -q -- .; continue
  fi
  filter="$(printf 'FullyQualifiedName~AttackSuiteTests.%s_|' "${rows[@]}")"
  dotnet test tests/FanVote.EndToEnd.Tests --no-build --filter "${filter%|}" >"$WORK/$name.test.log" 2>&1 || true
  git checkout -q -- .
  for row in "${rows[@]}"; do
    # The runner prints "failed <test> (time)" then the message; take the first line of the message.
    line="$(awk -v r="AttackSuiteTests.${row}_" '
      $1 == "failed" && index($2, r) { grab = 1; next }
      grab && /Exception|Assert|timed out/ { sub(/^[ \t]+/, ""); print; exit }' "$WORK/$name.test.log" | cut -c1-160 | tr '|' '/')"
    if grep -qE "^failed [^ ]*AttackSuiteTests\.${row}_" "$WORK/$name.test.log"; then
      echo "| $what | $row | yes | ${line:-see $name.test.log} |" >>"$REPORT"
    else
      echo "| $what | $row | **NO** | the row passed with the protection off |" >>"$REPORT"; bad=1
    fi
  done
done

echo
cat "$REPORT"
echo
echo "logs in $WORK"
exit "$bad"
