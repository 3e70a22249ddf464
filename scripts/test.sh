#!/usr/bin/env bash
# Runs every test: the Swift suites (language, JIT, driver, CLI, C API), then the Python package's pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
bash scripts/python_tests.sh debug
