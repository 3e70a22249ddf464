#!/usr/bin/env bash
# Builds libFilterJITC and the C extension filterjit._fastcall (in place, next to its source) and runs the Python
# package's tests (pytest, with PYTHONPATH=python), then the array-function, prepared- and replayed-call tests again through the ctypes path
# (FILTERJIT_NO_FASTCALL=1: the fallback when the extension is not built).
# Installs pytest, dask, distributed, dask-image, tifffile, mypy and numba (test-only: the Numba comparisons of
# test_array_functions.py) with pip when they are missing. Then, as a new user
# would: a fresh virtual environment, `pip install ./python` (which builds and ships the release library;
# in the background while pytest runs) and the README's Python example run from outside the repository with
# no environment variables (FILTERJIT_SKIP_VENV=1 skips this step for quick local runs; CI never sets it).
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
echo "== build_ext --inplace: filterjit._fastcall"
(cd python && "$python" setup.py --quiet build_ext --inplace)
# test_fastcall.py fails unless the extension is in use.
export FILTERJIT_EXPECT_FASTCALL=1
missing=()
for module in pytest dask distributed dask_image tifffile mypy numba; do
    "$python" -c "import $module" 2>/dev/null || missing+=("$module")
done
if ((${#missing[@]})); then
    packages=()
    for module in "${missing[@]}"; do packages+=("${module/dask_image/dask-image}"); done
    echo "== pip install ${packages[*]}"
    "$python" -m pip install --quiet "${packages[@]}" || echo "warning: pip install failed; dependent tests will be skipped"
fi

# The fresh venv's `pip install ./python` (a release build of libFilterJITC, mostly one core for the NDImage
# module) runs in the background while pytest uses the other core; its checks run after pytest.
venv=""
if [ "${FILTERJIT_SKIP_VENV:-0}" != 1 ]; then
    venv="$(mktemp -d -t filterjit-venv-XXXXXX)"
    # On a failure before the install is waited for, let it finish (no build left running) before removing it.
    trap 'wait; rm -rf "$venv"' EXIT
    echo "== fresh venv $venv: pip install ./python (in the background; its log: $venv/install.log)"
    ("$python" -m venv "$venv" && "$venv/bin/python" -m pip install --quiet ./python) > "$venv/install.log" 2>&1 &
    venv_install=$!
fi

echo "== pytest python/tests (library: $FILTERJIT_LIB)"
export PYTHONPATH="$PWD/python${PYTHONPATH:+:$PYTHONPATH}"
# test_install.py builds wheels in python/build, as the background install does: it runs after that install.
"$python" -m pytest -q python/tests ${venv:+--ignore=python/tests/test_install.py} "$@"

echo "== pytest of array functions, prepared and replayed calls through the ctypes path (FILTERJIT_NO_FASTCALL=1)"
FILTERJIT_NO_FASTCALL=1 FILTERJIT_EXPECT_FASTCALL=0 "$python" -m pytest -q python/tests/test_array_functions.py \
    python/tests/test_fastcall.py python/tests/test_prepared_calls.py python/tests/test_replayed_calls.py

if [ -n "$venv" ]; then
    echo "== fresh venv: waiting for pip install ./python, then the README's and python/README.md's examples"
    if ! wait "$venv_install"; then
        cat "$venv/install.log"
        echo "error: pip install ./python failed in the fresh venv" >&2
        exit 1
    fi
    cat "$venv/install.log"
    "$python" scripts/readme_example.py README.md "## Python" > "$venv/readme_example.py"
    "$python" scripts/readme_example.py python/README.md "## Example" > "$venv/python_readme_example.py"
    (cd "$venv" && env -u FILTERJIT_LIB -u PYTHONPATH "$venv/bin/python" readme_example.py \
        && env -u FILTERJIT_LIB -u PYTHONPATH "$venv/bin/python" python_readme_example.py)
    echo "README examples pass in the fresh venv"
    echo "== pytest: the packaging tests and the installed package's C call (the fresh venv)"
    # (Not the caller's pytest arguments: a -k of theirs would replace this selection.)
    FILTERJIT_TEST_VENV="$venv" "$python" -m pytest -q python/tests/test_install.py python/tests/test_fastcall.py \
        -k "test_install or test_the_installed_package_takes_the_c_call"
fi
