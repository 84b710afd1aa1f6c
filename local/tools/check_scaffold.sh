#!/usr/bin/env bash
# Proves the scaffolding: in a temporary copy of the project, `blytz new service` and `blytz new function`
# (one function of every trigger kind) write code that builds, validates and passes its generated tests
# untouched. The copy is a copy-on-write overlay of the checkout, mounted over it in a private mount
# namespace, so the build inside is incremental and the checkout itself never changes; where overlays
# are not allowed (not root, no overlayfs), a plain copy is built from scratch instead, which is slower.
set -euo pipefail

if [ "${1:-}" = "--inside" ]; then
  cd "$2"
  blytz="$3"
  unset BLYTZ_RESPONSE_LOG
  "$blytz" new service reports --root .
  "$blytz" new function reports summary --http "GET /reports/{id}/summary" --root .
  "$blytz" new function reports add-note --http "POST /reports/notes" --root .
  "$blytz" new function reports on-user-deleted --queue UserDeleted --root .
  "$blytz" new function reports nightly --schedule "0 0 3 * * *" --root .
  "$blytz" new function reports live --websocket '$default' --root .
  swift build --build-tests > build.log 2>&1 || { grep -E "error" build.log >&2; exit 1; }
  .build/debug/blytz validate functions.yaml
  swift test --skip-build --filter 'ReportsTests|SummaryTests|AddNoteTests|OnUserDeletedTests|NightlyTests|LiveTests'
  exit 0
fi

root="$(cd "$(dirname "$0")/../.." && pwd)"
blytz="$root/.build/debug/blytz"
[ -x "$blytz" ] || { echo "build first: $blytz is missing" >&2; exit 1; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/upper" "$scratch/work"
overlay="mount -t overlay overlay -o lowerdir=$root,upperdir=$scratch/upper,workdir=$scratch/work $root"
if unshare -m --propagation private sh -c "$overlay && umount $root" 2>/dev/null; then
  echo "scaffold check: in a copy-on-write overlay of $root"
  unshare -m --propagation private bash -c "$overlay && exec '$0' --inside '$root' '$blytz'"
else
  echo "scaffold check: overlays are not allowed here; building a plain copy from scratch"
  copy="$scratch/copy"
  mkdir -p "$copy"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$copy")
  "$0" --inside "$copy" "$blytz"
fi
