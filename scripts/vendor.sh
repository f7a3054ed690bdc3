#!/usr/bin/env bash
# Vendored front-end files: fetch each package at its pinned version from the
# npm registry (npm pack), check the tarball against its pinned integrity
# digest, and write the file and the package's licence next to each other
# under internal/web/static, where the binary embeds them.
#
#   scripts/vendor.sh          write the files
#   scripts/vendor.sh --check  change nothing; fail if a committed file differs
#
# To update or add a package, see docs/ARCHITECTURE.md, "Vendored front-end files".
set -euo pipefail
cd "$(dirname "$0")/.."

dest=internal/web/static

# One line per package: name, version, integrity (the tarball's SHA-512 as
# npm publishes it: npm view NAME@VERSION dist.integrity), file in the
# package, name written, licence in the package, licence written.
packages='
htmx.org 2.0.11 sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA== dist/htmx.min.js htmx-2.0.11.min.js LICENSE htmx-LICENSE.txt
echarts 6.1.0 sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA== dist/echarts.min.js echarts-6.1.0.min.js LICENSE echarts-LICENSE.txt
'

check=false
if [ "${1:-}" = "--check" ]; then check=true; fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
while read -r name version integrity file out licence licence_out; do
  [ -n "$name" ] || continue
  tgz=$(cd "$work" && npm pack --silent "$name@$version")
  # Our own check, not npm's: the pin in this file is what was reviewed.
  got="sha512-$(openssl dgst -sha512 -binary "$work/$tgz" | base64 -w0)"
  if [ "$got" != "$integrity" ]; then
    echo "$name@$version: integrity $got, pinned $integrity: refusing it" >&2
    exit 1
  fi
  mkdir -p "$work/$name"
  tar -xzf "$work/$tgz" -C "$work/$name"
  for pair in "$file:$out" "$licence:$licence_out"; do
    from="$work/$name/package/${pair%%:*}" to="$dest/${pair#*:}"
    if $check; then
      if cmp -s "$from" "$to"; then
        echo "ok       $to ($name@$version)"
      else
        echo "DIFFERS  $to is not ${pair%%:*} of $name@$version" >&2
        status=1
      fi
    else
      cp "$from" "$to"
      echo "wrote    $to ($name@$version, sha256 $(sha256sum "$to" | cut -d' ' -f1))"
    fi
  done
done <<<"$packages"
exit $status
