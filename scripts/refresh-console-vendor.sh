#!/usr/bin/env bash
# Refresh the browser libraries of the built-in console (xentara_ws/console/vendor/) from the npm registry.
#
# The console needs no build step: the release builds of these packages are copied as they are
# published, with their licence files, and VERSIONS records what was copied. To update, change a
# version below (or set e.g. PREACT_VERSION=... in the environment), run this script, try the console
# (`make test` runs the browser tests) and commit the vendor folder.
set -euo pipefail

CBOR_X_VERSION="${CBOR_X_VERSION:-1.6.9}"
UPLOT_VERSION="${UPLOT_VERSION:-1.6.32}"
PREACT_VERSION="${PREACT_VERSION:-11.2.0}"
HTM_VERSION="${HTM_VERSION:-3.1.1}"

cd "$(dirname "$0")/.."
vendor="xentara_ws/console/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "cbor-x@$CBOR_X_VERSION" "uplot@$UPLOT_VERSION" \
    "preact@$PREACT_VERSION" "htm@$HTM_VERSION" >/dev/null)
for tarball in "$work"/*.tgz; do
    name="$(basename "$tarball" .tgz)"
    mkdir -p "$work/$name"
    tar xzf "$tarball" -C "$work/$name"
done

rm -rf "$vendor"
mkdir -p "$vendor/cbor-x" "$vendor/uplot" "$vendor/preact/hooks" "$vendor/htm"
# cbor-x: the no-eval browser build (a classic script defining globalThis.CBOR); it runs under a
# Content-Security-Policy without 'unsafe-eval'.
cp "$work/cbor-x-$CBOR_X_VERSION/package/dist/index-no-eval.min.js" "$vendor/cbor-x/cbor-x.min.js"
cp "$work/cbor-x-$CBOR_X_VERSION/package/LICENSE" "$vendor/cbor-x/LICENSE"
cp "$work/uplot-$UPLOT_VERSION/package/dist/uPlot.esm.js" "$vendor/uplot/uPlot.esm.js"
cp "$work/uplot-$UPLOT_VERSION/package/dist/uPlot.min.css" "$vendor/uplot/uPlot.min.css"
cp "$work/uplot-$UPLOT_VERSION/package/LICENSE" "$vendor/uplot/LICENSE"
cp "$work/preact-$PREACT_VERSION/package/dist/preact.mjs" "$vendor/preact/preact.mjs"
cp "$work/preact-$PREACT_VERSION/package/hooks/dist/hooks.mjs" "$vendor/preact/hooks/hooks.mjs"
cp "$work/preact-$PREACT_VERSION/package/LICENSE" "$vendor/preact/LICENSE"
cp "$work/htm-$HTM_VERSION/package/dist/htm.mjs" "$vendor/htm/htm.mjs"
cp "$work/htm-$HTM_VERSION/package/LICENSE" "$vendor/htm/LICENSE"

cat > "$vendor/VERSIONS" <<VERSIONS
# Written by scripts/refresh-console-vendor.sh from the npm registry; do not edit by hand.
cbor-x $CBOR_X_VERSION MIT dist/index-no-eval.min.js
uplot $UPLOT_VERSION MIT dist/uPlot.esm.js dist/uPlot.min.css
preact $PREACT_VERSION MIT dist/preact.mjs hooks/dist/hooks.mjs
htm $HTM_VERSION Apache-2.0 dist/htm.mjs
VERSIONS
echo "refreshed $vendor:"
grep -v '^#' "$vendor/VERSIONS"
