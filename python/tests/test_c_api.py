"""The C API from C: include/filterjit.h compiles, links against libFilterJITC and behaves."""

import shutil
import subprocess

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import REPOSITORY


def test_c_program_uses_the_header_and_library(tmp_path):
    compiler = shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler on PATH")
    library = filterjit.library_path
    program = tmp_path / "smoke"
    subprocess.run([compiler, "-std=c11", "-Wall", "-Werror", "-I", str(REPOSITORY / "include"),
                    str(REPOSITORY / "python" / "tests" / "c_api_smoke.c"), "-o", str(program),
                    str(library), f"-Wl,-rpath,{library.parent}"], check=True)
    out = subprocess.run([str(program)], capture_output=True, text=True, timeout=60, check=True).stdout
    lines = out.splitlines()
    assert lines[0] == "broken: rejected status 4"
    assert lines[1].startswith("broken.filter:12:12: error: unknown name 'valuez'")
    assert "kind 0 name low params 2" in out
    assert "  bias type 0 default 0.5" in out and "  k type 1 default 2" in out
    assert "call 1 result 2" in out  # min 1.0 + 0.25 * 4
    image = np.array([(i * 7) % 11 for i in range(20)], float).reshape(4, 5)
    expected = ndi.generic_filter(image, np.min, size=3, mode="nearest")
    filtered = next(line for line in lines if line.startswith("filter status 0:"))
    np.testing.assert_array_equal(np.array(filtered.split(":")[1].split(), float), expected.ravel())
    assert "wrong kind status 1: kernel 'low' is a @filter kernel; use it with generic_filter" in out
