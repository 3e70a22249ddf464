#!/usr/bin/env bash
# Installs FilterJIT's system dependencies on Debian 12 (idempotent): LLVM's C API, libpng,
# libedit, libtiff, and the Python packages the interoperability tests use.
set -euo pipefail
need=()
ls /usr/lib/llvm-*/include/llvm-c/Core.h >/dev/null 2>&1 || need+=(llvm-dev)
dpkg -s libpng-dev >/dev/null 2>&1 || need+=(libpng-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
dpkg -s libedit-dev >/dev/null 2>&1 || need+=(libedit-dev)
dpkg -s libtiff-dev >/dev/null 2>&1 || need+=(libtiff-dev)
# The Python tests make a fresh virtual environment (Debian's own python3 needs python3-venv for that).
python3 -c "import ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
python3 -c "import numpy, scipy" 2>/dev/null || python3 -m pip install -q numpy scipy
# tifffile writes and checks the TIFF fixtures the tests compare against.
python3 -c "import tifffile" 2>/dev/null || python3 -m pip install -q tifffile
