#!/usr/bin/env bash
# Builds libFilterJITC and runs the Python package's tests (pytest, with PYTHONPATH=python).
# Installs pytest, dask, distributed and dask-image with pip when they are missing.
# Usage: scripts/python_tests.sh [debug|release] [pytest arguments...]   (default: release)
# Exits non-zero when the build or any test fails.
set -euo pipefail

cd "$(dirname "$0")/.."
configuration="${1:-release}"
case "$configuration" in
    debug|release) shift || true ;;
    *) configuration=release ;;
esac

echo "== swift build -c $configuration --product FilterJITC"
swift build -c "$configuration" --product FilterJITC
export FILTERJIT_LIB="$PWD/.build/$configuration/libFilterJITC.so"

python="${PYTHON:-python3}"
missing=()
for module in pytest dask distributed dask_image; do
    "$python" -c "import $module" 2>/dev/null || missing+=("$module")
done
if ((${#missing[@]})); then
    packages=()
    for module in "${missing[@]}"; do packages+=("${module/dask_image/dask-image}"); done
    echo "== pip install ${packages[*]}"
    "$python" -m pip install --quiet "${packages[@]}" || echo "warning: pip install failed; dependent tests will be skipped"
fi

echo "== pytest python/tests (library: $FILTERJIT_LIB)"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m pytest -q python/tests "$@"
