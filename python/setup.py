"""Builds libFilterJITC with SwiftPM (release) while the package is built, and ships it inside the package.

`pip install ./python` and `pip wheel ./python` run `swift build -c release --product FilterJITC` in the
FilterJIT repository (this folder's parent) and copy the library into the wheel's `filterjit/`; the
library holds LLVM (linked statically by Package.swift) and finds the Swift runtime through the
absolute run paths SwiftPM gives it, so the wheel is for this machine (a platform wheel, not `py3-none-any`). An editable install
(`pip install -e ./python`) builds the same library and keeps loading it from the repository's
`.build/release`. Without Swift or LLVM's C API the build stops with one sentence saying what to install.

It also builds the C extension `filterjit._fastcall` (filterjit/_fastcall.c, against NumPy's C API): the C call of
array functions. It is optional: if it cannot be built the package still works, through ctypes (slower calls).
In the repository, `python3 setup.py build_ext --inplace` (in this folder) builds it next to the sources, as
scripts/python_tests.sh does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.build_py import build_py

PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARY_NAMES = ("libFilterJITC.so", "libFilterJITC.dylib")


class BuildFailure(SystemExit):
    """Stops the build with one line of text (pip prints it at the end of its output)."""


def repository() -> Path:
    """The FilterJIT repository holding Package.swift: $FILTERJIT_SOURCE_DIR, else this folder's parent."""
    explicit = os.environ.get("FILTERJIT_SOURCE_DIR")
    root = Path(explicit).resolve() if explicit else PACKAGE_DIR.parent
    if not (root / "Package.swift").is_file():
        raise BuildFailure(
            f"error: filterjit is built from the FilterJIT repository, but {root} has no Package.swift; "
            "run `pip install ./python` inside a FilterJIT checkout (or set FILTERJIT_SOURCE_DIR to one).")
    return root


def has_llvm_c_api() -> bool:
    """Whether Package.swift will find an llvm-config whose C headers exist (the same search it makes)."""
    candidates = [os.environ.get("LLVM_CONFIG", "")]
    candidates += [f"/usr/lib/llvm-{version}/bin/llvm-config" for version in range(22, 13, -1)]
    candidates += [shutil.which("llvm-config") or ""]
    for path in filter(None, candidates):
        if not os.access(path, os.X_OK):
            continue
        try:
            include = subprocess.run([path, "--includedir"], capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if (Path(include) / "llvm-c" / "Core.h").is_file():
            return True
    return False


def build_library() -> Path:
    """Runs SwiftPM in release and returns the built library."""
    swift = os.environ.get("SWIFT") or shutil.which("swift")
    if not swift:
        raise BuildFailure(
            "error: building filterjit needs Swift 6 on the PATH (https://www.swift.org/install/); "
            "install it (and LLVM's C API, Debian: apt-get install llvm-dev) and run pip again.")
    if not has_llvm_c_api():
        raise BuildFailure(
            "error: building filterjit needs LLVM's C API (14 or newer): install it with "
            "`apt-get install llvm-dev` (or set LLVM_CONFIG to an llvm-config) and run pip again.")
    root = repository()
    command = [swift, "build", "-c", "release", "--product", "FilterJITC", "--package-path", str(root)]
    print("filterjit: " + " ".join(command), flush=True)
    if subprocess.run(command).returncode != 0:
        raise BuildFailure(f"error: `{' '.join(command)}` failed (its output is above); fix that and run pip again.")
    for name in LIBRARY_NAMES:
        built = root / ".build" / "release" / name
        if built.is_file():
            return built
    raise BuildFailure(f"error: swift build succeeded but left no libFilterJITC in {root / '.build' / 'release'}.")


class BuildPyWithLibrary(build_py):
    """build_py, then the Swift library: copied into the built package, or (editable) left in .build/release."""

    def run(self):
        super().run()
        library = build_library()
        if getattr(self, "editable_mode", False):
            return  # filterjit/_lib.py finds the repository's .build/release from the source tree
        target = Path(self.build_lib) / "filterjit" / library.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(library, target)


class BuildExtWithNumPy(build_ext):
    """build_ext with NumPy's headers (NumPy is a build requirement in pyproject.toml)."""

    def finalize_options(self):
        super().finalize_options()
        try:
            import numpy
        except ImportError:
            print("filterjit: NumPy is not importable in the build environment; filterjit._fastcall is skipped "
                  "(array functions are called through ctypes)", flush=True)
            self.extensions = []
            return
        for extension in self.extensions:
            extension.include_dirs.append(numpy.get_include())


FAST_CALL = Extension("filterjit._fastcall", ["filterjit/_fastcall.c"], optional=True,
                      extra_compile_args=["-O2", "-std=c11"] if os.name != "nt" else [])


class BinaryDistribution(Distribution):
    """A distribution with native code, so the wheel is tagged for this platform."""

    def has_ext_modules(self):
        return True


setup(cmdclass={"build_py": BuildPyWithLibrary, "build_ext": BuildExtWithNumPy}, distclass=BinaryDistribution,
      ext_modules=[FAST_CALL])
