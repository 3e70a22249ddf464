"""Errors, parameters, decorators, pickling and kernel lifetime."""

import gc
import inspect
import os
import pickle
import sys

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import PYTHON_DIR, example_text, plain_python


def test_index_out_of_range_makes_scipy_raise_runtime_error():
    callable_ = filterjit.jit_filter("def bad(values):\n    return values[len(values) + 1]\n")
    with pytest.raises(RuntimeError, match="unknown error in filter function"):
        ndi.generic_filter(np.zeros((4, 4)), callable_, size=3)


def test_index_out_of_range_in_filterjit_names_kernel_element_and_line():
    source = "def bad(values):\n    if values[0] > 5:\n        return values[99]\n    return 0.0\n"
    image = np.zeros((300, 200))
    image[123, 45] = 9.0
    # Thread counts and footprints that take the single, the view-slab and the padded-slab paths.
    for threads in (1, 3):
        for footprint in (np.ones((1, 1)), np.ones((3, 1))):
            with pytest.raises(RuntimeError) as failure:
                filterjit.generic_filter(image, source, footprint=footprint, origin=(1, 0) if len(footprint) == 3 else 0,
                                         threads=threads)
            message = str(failure.value)
            # origin 1 on a 3-long axis puts the window at rows i-2..i, so values[0] is row i-2.
            row = 123 if len(footprint) == 1 else 125
            assert "bad" in message and f"({row}, 45)" in message and "line 3" in message, message


def test_line_filter_failure_on_threads_names_the_first_failing_line():
    source = "@line_filter\ndef f(line, out):\n    if line[1] > 5:\n        out[len(out)] = 1.0\n"
    image = np.zeros((50, 400, 3))
    image[30, 200, 0] = 9.0  # line[1] is element 0 (one extension element before it)
    image[40, 10, 0] = 9.0
    for threads in (1, 4):
        with pytest.raises(RuntimeError, match=r"failed at element \(30, 200, 0\)"):
            filterjit.generic_filter1d(image, source, 3, axis=2, threads=threads)


def test_python_threads_run_filters_concurrently_with_correct_results():
    from concurrent.futures import ThreadPoolExecutor
    callable_ = filterjit.jit_filter(example_text("median"))
    images = [np.random.default_rng(seed).random((120, 90)) for seed in range(6)]
    expected = [ndi.generic_filter(image, callable_, size=3) for image in images]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda image: filterjit.generic_filter(image, callable_, size=3, threads=2), images))
    for actual, wanted in zip(results, expected):
        np.testing.assert_array_equal(actual, wanted)


def test_line_filter_failure_is_a_runtime_error():
    callable_ = filterjit.jit_filter1d("@line_filter\ndef f(line, out):\n    out[len(out)] = 1.0\n")
    with pytest.raises(RuntimeError, match="unknown error in line processing function"):
        ndi.generic_filter1d(np.zeros((3, 4)), callable_, 3)
    with pytest.raises(RuntimeError, match=r"failed at element \(0, 0\)"):
        filterjit.generic_filter1d(np.zeros((3, 4)), callable_, 3)


def test_broken_program_raises_compile_error_with_location():
    with pytest.raises(filterjit.CompileError) as failure:
        filterjit.jit_filter("def f(values):\n    x = 1\n    return valuez + x\n")
    assert isinstance(failure.value, ValueError)
    assert "<expr>:3:12: error:" in failure.value.diagnostics
    assert "valuez" in str(failure.value)


def test_decorated_function_error_points_at_the_py_file_line_and_column():
    def_line = inspect.currentframe().f_lineno + 3
    with pytest.raises(filterjit.CompileError) as failure:
        @filterjit.jit_filter_function
        def broken(values):
            total = 0.0
            return total + undefined_name  # noqa: F821
    expected = f"{__file__}:{def_line + 2}:28: error:"
    assert expected in failure.value.diagnostics, failure.value.diagnostics
    # The source line shown is the file's own line, indentation included.
    assert "            return total + undefined_name" in failure.value.diagnostics


def test_wrong_kind_names_the_right_function():
    with pytest.raises(ValueError, match="jit_filter1d"):
        filterjit.jit_filter(example_text("smooth1d"))
    with pytest.raises(ValueError, match="jit_transform"):
        filterjit.jit_filter1d(example_text("shift"))
    with pytest.raises(ValueError, match="jit_filter"):
        filterjit.jit_transform(example_text("mean"))
    with pytest.raises(ValueError, match="generic_filter1d"):
        filterjit.generic_filter(np.zeros(4), example_text("smooth1d"), size=3)


def test_same_kernel_with_two_parameter_values_gives_two_results():
    text = example_text("threshold")
    plain = plain_python(text)
    image = np.random.default_rng(11).random((12, 10))
    low, high = filterjit.jit_filter(text, t=0.3), filterjit.jit_filter(text, t=0.7)
    assert low.kernel.address == high.kernel.address  # one compiled kernel serves both values
    a = ndi.generic_filter(image, low, size=3)
    b = ndi.generic_filter(image, high, size=3)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, ndi.generic_filter(image, lambda v: plain(v, 0.3), size=3))
    np.testing.assert_array_equal(b, ndi.generic_filter(image, lambda v: plain(v, 0.7), size=3))
    np.testing.assert_array_equal(filterjit.generic_filter(image, low, size=3, t=0.7), b)
    np.testing.assert_array_equal(ndi.generic_filter(image, low.with_parameters(t=0.7), size=3), b)
    assert low.parameters == {"t": 0.3}
    assert low.kernel.parameters == (filterjit.Parameter("t", "float", 0.5),)


def test_generic_filter_takes_scipys_extra_arguments_and_extra_keywords():
    # Issue 13: parameters without defaults, given as SciPy passes them.
    text = "def f(values, t, scale):\n    return np.sum(values > t) * scale\n"
    plain = plain_python(text)
    image = np.random.default_rng(13).random((11, 9))
    expected = ndi.generic_filter(image, plain, size=3, extra_arguments=(0.5,), extra_keywords={"scale": 2.0})
    for engine in ("fused", "callback"):
        np.testing.assert_array_equal(
            filterjit.generic_filter(image, text, size=3, extra_arguments=(0.5,), extra_keywords={"scale": 2.0},
                                     engine=engine), expected)
        np.testing.assert_array_equal(filterjit.generic_filter(image, text, size=3, extra_arguments=(0.5, 2.0),
                                                               engine=engine), expected)
    with pytest.raises(TypeError, match="parameter 'scale'"):
        filterjit.generic_filter(image, text, size=3, extra_arguments=(0.5,))
    with pytest.raises(TypeError, match="3 extra_arguments"):
        filterjit.generic_filter(image, text, size=3, extra_arguments=(0.5, 2.0, 1.0))
    line_text = "@line_filter\ndef f(line, out, k):\n    for i in range(len(out)):\n        out[i] = line[i] * k\n"
    plain_line = plain_python(line_text)
    np.testing.assert_array_equal(filterjit.generic_filter1d(image, line_text, 3, extra_arguments=(3.0,)),
                                  ndi.generic_filter1d(image, plain_line, 3, extra_arguments=(3.0,)))
    with pytest.raises(TypeError, match="parameter 'k'"):
        filterjit.generic_filter1d(image, line_text, 3)


def test_unknown_parameter_is_an_error():
    with pytest.raises(TypeError, match="no parameter 'q'"):
        filterjit.jit_filter(example_text("threshold"), q=1.0)


def test_decorator_with_parameter_values():
    @filterjit.jit_filter_function(k=3)
    def kth(values, k=1):
        return np.sort(values)[k]

    image = np.random.default_rng(12).random((9, 9))
    assert kth.kernel.parameters[0].type == "int"
    np.testing.assert_array_equal(ndi.generic_filter(image, kth, size=3),
                                  ndi.generic_filter(image, lambda v: kth.py_func(v, 3), size=3))


def test_pickle_round_trip_recompiles_with_kind_and_parameters():
    callable_ = filterjit.jit_filter(example_text("threshold"), t=0.25)
    clone = pickle.loads(pickle.dumps(callable_))
    assert isinstance(clone, filterjit.JITCallable)
    assert clone.parameters == {"t": 0.25}
    assert clone.kernel.kind == "filter" and clone.kernel.source == callable_.kernel.source
    image = np.random.default_rng(13).random((10, 10))
    np.testing.assert_array_equal(ndi.generic_filter(image, clone, size=3),
                                  ndi.generic_filter(image, callable_, size=3))
    kernel = pickle.loads(pickle.dumps(filterjit.Kernel(example_text("smooth1d"))))
    assert kernel.kind == "line_filter" and kernel.name == "smooth"


def test_decorated_callable_pickles_as_its_source():
    @filterjit.jit_filter_function
    def spread(values):
        return max(values) - min(values)

    clone = pickle.loads(pickle.dumps(spread))
    image = np.random.default_rng(14).random((6, 6))
    np.testing.assert_array_equal(ndi.generic_filter(image, clone, size=2), ndi.generic_filter(image, spread, size=2))


def test_kernel_stays_alive_while_a_callable_uses_it():
    callable_ = filterjit.jit_filter("def lifetime_probe(values):\n    return values[0] * 2.0 + 0.125\n")
    weak = callable_.kernel
    del weak
    gc.collect()
    image = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(ndi.generic_filter(image, callable_, size=1), image * 2 + 0.125)


def test_import_and_first_callable_in_a_fresh_process():
    import subprocess
    code = "import filterjit, numpy as np, scipy.ndimage as ndi; c = filterjit.jit_filter('max(values)');" \
           "print(ndi.generic_filter(np.arange(5.0), c, size=3).tolist())"
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1.0, 2.0, 3.0, 4.0, 4.0]"


def test_source_from_a_path_reports_errors_in_that_file(tmp_path):
    from conftest import EXAMPLES
    callable_ = filterjit.jit_filter(EXAMPLES / "fmin.filter")
    assert callable_.kernel.name == "fmin" and callable_.kernel.file_name.endswith("fmin.filter")
    broken = tmp_path / "broken.filter"
    broken.write_text("# a comment\ndef f(values):\n    return 1 +\n")
    with pytest.raises(filterjit.CompileError, match=r"broken\.filter:3:"):
        filterjit.jit_filter(broken)


def test_a_new_process_loads_a_pickled_kernel_from_the_disk_cache():
    import subprocess
    source = "def disk_probe(values, t=2.0):\n    return max(values) * t - 0.0625\n"
    callable_ = filterjit.jit_filter(source, t=3.0)
    assert not callable_.kernel.loaded_from_disk_cache
    code = ("import pickle, sys, numpy as np, scipy.ndimage as ndi\n"
            "c = pickle.loads(sys.stdin.buffer.read())\n"
            "print(c.kernel.loaded_from_disk_cache, ndi.generic_filter(np.arange(4.0), c, size=3).tolist())\n")
    env = dict(os.environ, PYTHONPATH=str(PYTHON_DIR))
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(callable_), env=env,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == "True [2.9375, 5.9375, 8.9375, 8.9375]"


def test_run_time_failure_of_a_decorated_kernel_points_into_the_py_file():
    @filterjit.jit_filter_function
    def reads_too_far(values):
        return values[len(values)]
    line = inspect.getsourcelines(reads_too_far.py_func)[1] + 2
    with pytest.raises(RuntimeError) as failure:
        filterjit.generic_filter(np.zeros((3, 3)), reads_too_far, size=2)
    assert f"at line {line}, column 16 of {__file__}" in str(failure.value), str(failure.value)


def test_cancel_stops_a_runaway_while_loop_from_another_thread():
    import threading
    import time
    spin = filterjit.jit_filter("def spin(values):\n    x = 0\n    while x >= 0:\n        x += 1\n    return x\n")
    outcome = {}

    def run():
        try:
            filterjit.generic_filter(np.zeros(4), spin, size=1, threads=1)
        except RuntimeError as error:
            outcome["error"] = str(error)

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)  # the filter runs without the GIL, so this thread keeps going
    try:
        filterjit.cancel()
        worker.join(timeout=30)
    finally:
        filterjit.reset_cancellation()
    assert not worker.is_alive()
    assert "cancelled" in outcome.get("error", ""), outcome
    np.testing.assert_array_equal(filterjit.generic_filter(np.ones(3), "values[0] * 2", size=1), [2, 2, 2])


def test_filter_text_compiles_once_per_process_and_the_cache_is_bounded():
    from filterjit import _ndimage
    x = np.arange(30.0).reshape(5, 6)
    text = "max(values) - min(values) + 0.25"
    first = filterjit.generic_filter(x, text, size=3)
    kernel = _ndimage._TEXT_KERNELS[(text, "filter", None)]
    again = filterjit.generic_filter(x, text, size=3, mode="wrap")
    assert _ndimage._TEXT_KERNELS[(text, "filter", None)] is kernel  # the same compiled kernel, not a new one
    np.testing.assert_array_equal(first, ndi.generic_filter(x, lambda v: v.max() - v.min() + 0.25, size=3))
    np.testing.assert_array_equal(again, ndi.generic_filter(x, lambda v: v.max() - v.min() + 0.25, size=3, mode="wrap"))
    # Broken text raises each time and is never cached.
    for _ in range(2):
        with pytest.raises(filterjit.CompileError):
            filterjit.generic_filter(x, "min(values", size=3)
    assert ("min(values", "filter", None) not in _ndimage._TEXT_KERNELS
    # The cache keeps at most its limit, dropping the oldest entries first.
    for i in range(_ndimage._TEXT_KERNELS_LIMIT + 5):
        filterjit.generic_filter(x, f"min(values) + {i}", size=3)
    assert len(_ndimage._TEXT_KERNELS) == _ndimage._TEXT_KERNELS_LIMIT
    assert (text, "filter", None) not in _ndimage._TEXT_KERNELS
    assert (f"min(values) + {_ndimage._TEXT_KERNELS_LIMIT + 4}", "filter", None) in _ndimage._TEXT_KERNELS


def test_the_dropin_s_generated_kernels_share_the_bounded_text_cache():
    # Each structuring element's weights make a new kernel text: the drop-in must not keep them all.
    from filterjit import _ndimage, ndimage as fjndi
    x = np.arange(64.0).reshape(8, 8)
    for i in range(_ndimage._TEXT_KERNELS_LIMIT + 10):
        structure = np.full((3, 3), float(i) / 7)
        np.testing.assert_array_equal(fjndi.grey_erosion(x, structure=structure),
                                      ndi.grey_erosion(x, structure=structure))
    assert len(_ndimage._TEXT_KERNELS) <= _ndimage._TEXT_KERNELS_LIMIT
    assert any(file_name == "<filterjit.ndimage>" for (_, _, file_name) in _ndimage._TEXT_KERNELS)
