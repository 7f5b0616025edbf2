#!/bin/sh
# Build and install cove from this checkout: `./install.sh` (extra arguments go to cargo install).
#
# On x86_64 Linux with glibc the binary is linked fully statically: the shim starts with no
# dynamic loader, which is most of what it costs (bench/RESULTS.md). Where that cannot be built
# (no static glibc), or elsewhere, a plain build.
#
# Then, when no uv is found (COVE_UV, PATH), uv is installed from the package index into cove's
# own data folder (`$COVE_HOME/tools/uv`, never your site-packages), so builds use uv's speed
# from the start. COVE_NO_UV=1 skips that; cove then uses the interpreter's venv and pip.
set -eu
cd "$(dirname "$0")"
built=
if [ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ] && ldd --version 2>&1 | grep -qi 'glibc\|gnu libc'; then
    if RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static -C relocation-model=static" \
        cargo install --locked --path . --target x86_64-unknown-linux-gnu "$@"; then
        built=1
    else
        echo "install.sh: the static build failed (is libc6-dev installed?); building the usual way" >&2
    fi
fi
[ -n "$built" ] || cargo install --locked --path . "$@"

cove=$(command -v cove || echo "${CARGO_HOME:-$HOME/.cargo}/bin/cove")
if [ -z "${COVE_NO_UV:-}" ] && [ -z "${COVE_UV:-}" ] && ! command -v uv >/dev/null 2>&1; then
    shims=$(cd / && "$cove" shims)
    target="$(dirname "$shims")/tools/uv"
    if [ ! -x "$target/bin/uv" ]; then
        echo "install.sh: uv not found; installing it into $target for cove's builds" >&2
        # From /, isolated (-I): nothing in the current folder can stand in for pip.
        if (cd / && python3 -I -m pip install --quiet --disable-pip-version-check --target "$target" uv); then
            echo "install.sh: cove will use $target/bin/uv (see \`cove doctor\`)" >&2
        else
            echo "install.sh: could not install uv; cove will use venv and pip (slower)" >&2
        fi
    fi
fi
echo "install.sh: done. Enable the hook: eval \"\$(cove hook bash)\" (zsh, fish too); \`cove setup\` for login shells" >&2
