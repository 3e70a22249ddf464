"""The public Python API is typed (PEP 561 `py.typed`, annotations that mypy accepts) and documented."""

import inspect
import subprocess
import sys

import pytest

import filterjit
import filterjit.ndimage
from conftest import PYTHON_DIR


def public_functions():
    for module in (filterjit, filterjit.ndimage):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isfunction(value) or (callable(value) and not inspect.isclass(value)
                                              and not inspect.ismodule(value)):
                yield pytest.param(module.__name__, name, value, id=f"{module.__name__}.{name}")


@pytest.mark.parametrize("module,name,function", list(public_functions()))
def test_public_function_has_docstring_and_annotations(module, name, function):
    assert inspect.getdoc(function), f"{module}.{name} has no docstring for help()"
    signature = inspect.signature(function)
    missing = [p.name for p in signature.parameters.values() if p.annotation is inspect.Parameter.empty]
    assert not missing, f"{module}.{name}: parameters without a type: {missing}"
    assert signature.return_annotation is not inspect.Signature.empty, f"{module}.{name}: no return type"


def test_package_ships_py_typed_marker():
    assert (PYTHON_DIR / "filterjit" / "py.typed").is_file()


def test_mypy_accepts_the_package_and_a_user_script(tmp_path):
    pytest.importorskip("mypy")
    script = tmp_path / "user.py"
    script.write_text(
        "import numpy as np\n"
        "import filterjit.ndimage as ndi\n"
        "from filterjit import jit_filter, generic_filter\n"
        "x = np.zeros((8, 8))\n"
        "y: np.ndarray = ndi.median_filter(x, size=3)\n"
        "z: np.ndarray = generic_filter(x, jit_filter('min(values)'), size=3, threads=2)\n")
    result = subprocess.run([sys.executable, "-m", "mypy", "--ignore-missing-imports", str(PYTHON_DIR / "filterjit"),
                             str(script)], capture_output=True, text=True, cwd=PYTHON_DIR, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
