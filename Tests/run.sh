#!/usr/bin/env bash
# Runs the test suite (`swift test`, extra arguments passed on) with a TMPDIR of its own, and
# fails if the tests leave anything there: every test removes the files it writes. The build
# comes first, outside that TMPDIR (the compiler keeps files there); SwiftPM itself still leaves
# lock files (`_*.lock`) and empty `TemporaryDirectory.*` folders, even for a run that selects
# no test, and those are not counted. Part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare-tests-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
${SWIFT:-swift} build --build-tests
TMPDIR="$tmp" ${SWIFT:-swift} test "$@"
left=$(find "$tmp" -mindepth 1 -maxdepth 1 ! -name '_*.lock' ! -name 'TemporaryDirectory.*' -printf '%f\n' | sort)
if [ -n "$left" ]; then
  echo "error: the tests left these in TMPDIR ($tmp):" >&2
  echo "$left" | sed 's/^/  /' >&2
  exit 1
fi
echo "Tests: nothing left behind in TMPDIR."
