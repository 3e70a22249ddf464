#!/usr/bin/env bash
# Runs every test: the Swift suites (language, JIT, driver, CLI).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test
