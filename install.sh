#!/bin/sh
# Build and install cove from this checkout: `./install.sh` (extra arguments go to cargo install).
#
# On x86_64 Linux with glibc the binary is linked fully statically: the shim starts with no
# dynamic loader, which is most of what it costs (bench/RESULTS.md). Elsewhere, a plain build.
set -eu
cd "$(dirname "$0")"
if [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] && ldd --version 2>&1 | grep -qi 'glibc\|gnu libc'; then
    RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
        exec cargo install --locked --path . --target x86_64-unknown-linux-gnu "$@"
fi
exec cargo install --locked --path . "$@"
