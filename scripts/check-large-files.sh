#!/usr/bin/env bash
# check-large-files.sh [DIR]: fail when git tracks a file over 1 MiB that
# DIR/.large-files-allowed does not list (one path per line, as git ls-files
# prints it; # starts a comment). DIR defaults to the repository root. Run by
# `make vet`, so by `make test` and .ci/run: a stray binary or dump never
# lands unnoticed.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
# a listing that fails must not pass for an empty one
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "check-large-files: $(pwd) is not in a git work tree; run it in the repository" >&2
  exit 1
fi
limit=$((1024 * 1024))
allow_file=.large-files-allowed

allowed() {
  [ -f "$allow_file" ] || return 1
  sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$allow_file" | grep -qxF -- "$1"
}

# index entries as "<blob> <path>" for cat-file: the size checked is the
# size of what git tracks, whatever the work tree holds; submodules (mode
# 160000) name commits of another repository and are skipped
blobs() {
  local e mode sha _
  while IFS= read -r -d '' e; do
    read -r mode sha _ <<<"${e%%$'\t'*}"
    [ "$mode" = 160000 ] || printf '%s %s\0' "$sha" "${e#*$'\t'}"
  done < <(git ls-files -z --stage)
}

bad=0
while IFS= read -r line; do
  size=${line%% *} f=${line#* }
  if [ "$size" -le "$limit" ] || allowed "$f"; then continue; fi
  echo "check-large-files: $f is $size bytes (over 1 MiB) and tracked by git, but not listed in $allow_file" >&2
  bad=$((bad + 1))
done < <(blobs | git cat-file -z --batch-check='%(objectsize) %(rest)')

if [ "$bad" -gt 0 ]; then
  cat >&2 <<EOF
check-large-files: $bad tracked file(s) over 1 MiB. For a build output or a
stray binary: git rm --cached FILE and add a pattern to .gitignore. For a
file that must be committed (a real fixture): add its path to $allow_file
with a comment saying why.
EOF
  exit 1
fi
