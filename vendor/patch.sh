#!/usr/bin/env bash
# The vendored crates are their crates.io releases with lmc's patch series applied:
#   vendor/<crate>/                 the patched tree that cargo builds ([patch.crates-io])
#   vendor/patches/<crate>/*.patch  the series, in order, each naming the test that covers it
# This script rebuilds a tree from the release (fetched from crates.io and checked against the
# checksum below) and the series, or checks that the committed tree is exactly that.
#
#   bash vendor/patch.sh check   # CI: every vendored tree equals release + patches
#   bash vendor/patch.sh apply   # rewrite the vendored trees (after editing a patch, or to
#                                # move a patch to a new release: change the version and checksum)
set -euo pipefail
cd "$(dirname "$0")"
mode=${1:-check}
if [[ $mode != check && $mode != apply ]]; then
    echo "usage: bash vendor/patch.sh check|apply" >&2
    exit 2
fi
# name version sha256-of-the-.crate-file
releases=(
    "burn-flex 0.21.0 0098bf6555c151517b4c98ca0e8ed1ab6a976e40f5f4e967c117b00eee21e192"
    "cubek-matmul 0.2.0 83a4cea5f0f439907dc953c7638a6204b3f055f1bcbd10db91dfc5faa030ac1c"
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for release in "${releases[@]}"; do
    read -r name version sha <<<"$release"
    archive="$work/$name-$version.crate"
    cached=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$version.crate" 2>/dev/null | head -n 1 || true)
    if [[ -n $cached ]]; then
        cp "$cached" "$archive"
    else
        curl -sSfL -o "$archive" "https://static.crates.io/crates/$name/$name-$version.crate"
    fi
    if [[ $(sha256sum "$archive" | cut -d' ' -f1) != "$sha" ]]; then
        echo "$name $version: the downloaded release does not have sha256 $sha" >&2
        exit 1
    fi
    tar -xzf "$archive" -C "$work"
    tree="$work/$name-$version"
    for series in patches/"$name"/*.patch; do
        if ! patch -p1 -s --no-backup-if-mismatch -d "$tree" <"$series"; then
            echo "$series does not apply to $name $version" >&2
            exit 1
        fi
    done
    if [[ $mode == apply ]]; then
        rm -rf "$name"
        cp -r "$tree" "$name"
        echo "vendor/$name: $name $version + $(ls patches/"$name" | wc -l) patches"
    elif diff -r "$tree" "$name" >"$work/$name.diff"; then
        echo "vendor/$name: $name $version + $(ls patches/"$name" | wc -l) patches, as committed"
    else
        echo "vendor/$name differs from $name $version + vendor/patches/$name (run bash vendor/patch.sh apply, or turn the edit into a patch):" >&2
        head -n 40 "$work/$name.diff" >&2
        status=1
    fi
done
exit $status
