#!/bin/sh
# Build and install cove from this checkout: `./install.sh` (extra arguments go to cargo install).
#
# On x86_64 Linux with glibc the binary is linked fully statically: the shim starts with no
# dynamic loader, which is most of what it costs (bench/RESULTS.md). Where that cannot be built
# (no static glibc), or elsewhere, a plain build.
set -eu
cd "$(dirname "$0")"
if [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] && ldd --version 2>&1 | grep -qi 'glibc\|gnu libc'; then
    if RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
        cargo install --locked --path . --target x86_64-unknown-linux-gnu "$@"; then
        exit 0
    fi
    echo "install.sh: the static build failed (is libc6-dev installed?); building the usual way" >&2
fi
exec cargo install --locked --path . "$@"
