"""Issue 15: Numba's raw-pointer SciPy callback form (`@cfunc(intc(CPointer(float64), intp, ...))`) compiles
unchanged, with no Numba installed: the published nbmin equals grey_erosion through every entry point."""

import os
import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.ndimage as ndi
from scipy import LowLevelCallable

import filterjit
import filterjit.ndimage as fjndi
from conftest import PYTHON_DIR

REPO = os.path.dirname(PYTHON_DIR)
EXAMPLE = os.path.join(REPO, "examples", "nbmin_cfunc.py")


def example_text():
    with open(EXAMPLE, encoding="utf-8") as file:
        return file.read()


def image(shape=(41, 37), seed=3):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.fixture(autouse=True, scope="module")
def without_numba():
    """Every test here runs as on a machine without Numba, even where it is installed (CI installs it for
    test_array_functions.py's comparisons): while they run, importing Numba raises ImportError."""
    saved = {name: module for name, module in sys.modules.items() if name == "numba" or name.startswith("numba.")}
    for name in saved:
        del sys.modules[name]
    sys.modules["numba"] = None  # type: ignore[assignment]
    yield
    sys.modules.pop("numba", None)
    sys.modules.update(saved)


def test_numba_cannot_be_imported_here():
    # The point of the exercise: nothing below imports Numba.
    with pytest.raises(ImportError):
        __import__("numba")


@pytest.mark.parametrize("mode", ["reflect", "nearest", "constant", "wrap", "mirror"])
@pytest.mark.parametrize("size", [3, (2, 5)])
def test_published_nbmin_through_scipy_generic_filter_equals_grey_erosion(mode, size):
    x = image()
    callback = filterjit.jit_filter(example_text())
    assert isinstance(callback, LowLevelCallable)
    got = ndi.generic_filter(x, callback, size=size, mode=mode, cval=0.25)
    np.testing.assert_array_equal(got, ndi.grey_erosion(x, size=size, mode=mode, cval=0.25))


@pytest.mark.parametrize("engine", ["fused", "callback"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.uint8])
def test_published_nbmin_through_filterjit_generic_filter_equals_grey_erosion(engine, dtype):
    x = (image() * 40).astype(dtype)
    got = filterjit.generic_filter(x, example_text(), size=3, engine=engine)
    np.testing.assert_array_equal(got, ndi.grey_erosion(x, size=3))


def load_example_module(path=EXAMPLE, name="nbmin"):
    """The example's def, executed with stand-ins for Numba's names (cfunc wraps like Numba's CFunc)."""
    class CFunc:
        def __init__(self, pyfunc):
            self._pyfunc = pyfunc

        def __call__(self, *args):
            return self._pyfunc(*args)

    numba = types.ModuleType("numba")
    numba.cfunc = lambda signature: CFunc
    numba.carray = lambda pointer, shape, dtype=None: pointer
    numba_types = types.ModuleType("numba.types")
    for type_name in ("intc", "intp", "float64", "voidptr"):
        setattr(numba_types, type_name, lambda *args: args)
    numba_types.CPointer = lambda t: t
    numba.types = numba_types
    absent = object()
    saved = {name: sys.modules.get(name, absent) for name in ("numba", "numba.types")}
    sys.modules["numba"], sys.modules["numba.types"] = numba, numba_types
    try:
        namespace = {"__name__": "numba_example"}
        with open(path, encoding="utf-8") as file:
            code = compile(file.read(), path, "exec")
        exec(code, namespace)
    finally:
        for module_name, module in saved.items():
            if module is absent:
                sys.modules.pop(module_name, None)
            else:
                sys.modules[module_name] = module  # None too: the block of `without_numba`
    return namespace[name]


def test_decorator_on_a_numba_cfunc_uses_its_pyfunc():
    cfunc = load_example_module()
    assert hasattr(cfunc, "_pyfunc")
    callback = filterjit.jit_filter_function(cfunc)
    assert callback.kernel.kind == "filter"
    x = image()
    np.testing.assert_array_equal(ndi.generic_filter(x, callback, size=3), ndi.grey_erosion(x, size=3))
    # filterjit.ndimage.generic_filter takes the CFunc object as it takes a Python function.
    np.testing.assert_array_equal(fjndi.generic_filter(x, cfunc, size=(3, 2)), ndi.grey_erosion(x, size=(3, 2)))


def test_decorator_on_the_plain_function_source():
    cfunc = load_example_module()
    callback = filterjit.jit_filter_function(cfunc._pyfunc)
    x = image((12, 9))
    np.testing.assert_array_equal(ndi.generic_filter(x, callback, footprint=np.eye(3)),
                                  ndi.grey_erosion(x, footprint=np.eye(3)))


def example(name):
    with open(os.path.join(REPO, "examples", name), encoding="utf-8") as file:
        return file.read()


LINE = example("nbmean3_cfunc1d.py")
TRANSFORM = example("nbshift_cfunc.py")


def test_line_and_transform_decorators_on_numba_cfuncs():
    x = image((9, 30))
    mean3 = load_example_module(os.path.join(REPO, "examples", "nbmean3_cfunc1d.py"), "mean3")
    expected = ndi.generic_filter1d(x, lambda i, o: o.__setitem__(slice(None), (i[:-2] + i[1:-1] + i[2:]) / 3.0), 3)
    np.testing.assert_array_equal(ndi.generic_filter1d(x, filterjit.jit_filter1d_function(mean3), 3), expected)
    shift = load_example_module(os.path.join(REPO, "examples", "nbshift_cfunc.py"), "shift")
    np.testing.assert_array_equal(ndi.geometric_transform(x, filterjit.jit_geometric_function(shift), order=1),
                                  ndi.geometric_transform(x, lambda c: tuple(v - 0.5 for v in c), order=1))
    # The decorator checks the kind the signature gives.
    with pytest.raises(ValueError):
        filterjit.jit_filter_function(shift)


def test_raw_generic_filter1d_form():
    x = image((9, 30))
    expected = ndi.generic_filter1d(x, lambda i, o: o.__setitem__(slice(None), (i[:-2] + i[1:-1] + i[2:]) / 3.0), 3)
    np.testing.assert_array_equal(ndi.generic_filter1d(x, filterjit.jit_filter1d(LINE), 3), expected)
    np.testing.assert_array_equal(filterjit.generic_filter1d(x, LINE, 3), expected)


def test_raw_geometric_transform_form():
    x = image((10, 12))
    expected = ndi.geometric_transform(x, lambda c: tuple(v - 0.5 for v in c), order=1)
    np.testing.assert_array_equal(ndi.geometric_transform(x, filterjit.jit_transform(TRANSFORM), order=1), expected)
    np.testing.assert_array_equal(filterjit.geometric_transform(x, TRANSFORM, order=1), expected)


def test_return_0_makes_scipy_raise():
    source = example_text().replace("    return 1", "    if result[0] < -2.0:\n        return 0\n    return 1")
    x = image()
    assert x.min() < -2.0
    with pytest.raises(RuntimeError):
        ndi.generic_filter(x, filterjit.jit_filter(source), size=3)
    with pytest.raises(RuntimeError, match="the callback returned 0"):
        filterjit.generic_filter(x, source, size=3)
    small = np.clip(x, -1, 1)
    np.testing.assert_array_equal(filterjit.generic_filter(small, source, size=3), ndi.grey_erosion(small, size=3))


SIGNATURE = "intc(CPointer(float64), intp, CPointer(float64), voidptr)"


@pytest.mark.parametrize("old, new, expected", [
    (SIGNATURE, "intc(CPointer(float64), intc, CPointer(float64), voidptr)", "expected one of SciPy's callback signatures"),
    (SIGNATURE, "float64(float64)", "is not a SciPy callback"),
    ("result[0] = np.inf", "result[1] = np.inf", r"only 'result\[0\]' exists"),
    ("result[0] = np.inf", "result[0] = data[0]", "user_data pointer"),
    ("return 1", "return", "returns its status"),
    ("from numba import cfunc, carray", "from numba import cfunc, carray, vectorize", "'vectorize' cannot be imported from 'numba'"),
    ("(len_values,)", "(3,)", "must view the whole buffer"),
])
def test_refused_forms_have_clear_errors(old, new, expected):
    text = example_text()
    filterjit.jit_filter(text)
    assert old in text
    with pytest.raises(filterjit.CompileError, match=expected):
        filterjit.jit_filter(text.replace(old, new))


def test_signature_spellings_are_accepted():
    body = example_text().split("@cfunc", 1)[1].split("\n", 1)[1]
    for header in ['import numba\n@numba.cfunc(numba.types.intc(numba.types.CPointer(numba.types.float64), numba.types.intp, '
                   'numba.types.CPointer(numba.types.float64), numba.types.voidptr))\n',
                   'from numba import cfunc, carray, types\n@cfunc(types.int32(types.CPointer(types.double), types.int64, '
                   'types.CPointer(types.float64), types.voidptr), nopython=True, cache=True)\n',
                   'from numba import cfunc, carray\n@cfunc("intc(CPointer(float64), intp, CPointer(float64), voidptr)")\n']:
        text = "import numpy as np\n" + header + body
        text = text.replace("carray(", "numba.carray(") if header.startswith("import numba") else text
        text = text.replace("dtype=float64", "dtype=np.float64")
        x = image((7, 8))
        np.testing.assert_array_equal(filterjit.generic_filter(x, text, size=3), ndi.grey_erosion(x, size=3))


def test_cli_run_on_both_engines(tmp_path):
    x = image()
    np.save(tmp_path / "x.npy", x)
    cli = os.path.join(REPO, ".build", os.environ.get("FILTERJIT_CONFIGURATION", "debug"), "filterjit")
    if not os.path.exists(cli):
        pytest.skip("the filterjit CLI is not built")
    for engine in ("fused", "callback"):
        out = tmp_path / f"{engine}.npy"
        subprocess.run([cli, "run", EXAMPLE, "--input", str(tmp_path / "x.npy"), "--output", str(out), "--size", "3",
                        "--engine", engine, "--no-disk-cache"], check=True)
        np.testing.assert_array_equal(np.load(out), ndi.grey_erosion(x, size=3))
        line = tmp_path / f"line-{engine}.npy"
        subprocess.run([cli, "run", os.path.join(REPO, "examples", "nbmean3_cfunc1d.py"), "--input", str(tmp_path / "x.npy"),
                        "--output", str(line), "--line-size", "3", "--engine", engine, "--no-disk-cache"], check=True)
        expected = ndi.generic_filter1d(x, lambda i, o: o.__setitem__(slice(None), (i[:-2] + i[1:-1] + i[2:]) / 3.0), 3)
        np.testing.assert_array_equal(np.load(line), expected)
    shifted = tmp_path / "shift.npy"
    subprocess.run([cli, "run", os.path.join(REPO, "examples", "nbshift_cfunc.py"), "--input", str(tmp_path / "x.npy"),
                    "--output", str(shifted), "--order", "1", "--no-disk-cache"], check=True)
    np.testing.assert_array_equal(np.load(shifted), ndi.geometric_transform(x, lambda c: tuple(v - 0.5 for v in c), order=1))
