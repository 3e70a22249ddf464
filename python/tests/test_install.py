"""Packaging: building the package without Swift stops with one sentence saying what to install, and a
built wheel ships libFilterJITC and the py.typed marker. (The fresh-venv install and the README example
run in scripts/python_tests.sh.)"""

import os
import subprocess
import sys
import zipfile

import pytest

from conftest import PYTHON_DIR


def pip_wheel(tmp_path, path_variable):
    """`pip wheel --no-deps ./python` into tmp_path with the given PATH; the completed process."""
    env = {key: value for key, value in os.environ.items() if key not in ("SWIFT", "FILTERJIT_LIB")}
    env["PATH"] = path_variable
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path),
                           str(PYTHON_DIR)], capture_output=True, text=True, env=env, timeout=600)


def test_build_without_swift_fails_with_one_sentence_naming_swift(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    result = pip_wheel(tmp_path, str(empty))
    if "No matching distribution found for setuptools" in result.stderr:
        pytest.skip("pip cannot fetch setuptools for its isolated build here")
    assert result.returncode != 0
    lines = [line.strip() for line in result.stdout.splitlines() + result.stderr.splitlines()]
    assert "error: building filterjit needs Swift 6 on the PATH (https://www.swift.org/install/); install it " \
           "(and LLVM's C API, Debian: apt-get install llvm-dev) and run pip again." in lines
    assert not list(tmp_path.glob("*.whl"))


def test_wheel_ships_the_library_and_py_typed(tmp_path):
    result = pip_wheel(tmp_path, os.environ["PATH"])
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = tmp_path.glob("filterjit-*.whl")
    assert not wheel.name.endswith("-none-any.whl"), "a wheel with a native library must be platform-tagged"
    names = zipfile.ZipFile(wheel).namelist()
    assert "filterjit/libFilterJITC.so" in names or "filterjit/libFilterJITC.dylib" in names
    assert "filterjit/py.typed" in names
