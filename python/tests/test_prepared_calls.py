"""Repeated generic_filter calls take the prepared plan (filterjit_generic_filter_prepare /
filterjit_filter_plan_run): the same results and the same errors as the first, full call, on every call."""

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from filterjit import _ndimage

MIN = "def f(values):\n    return min(values)\n"
MAX = "def f(values):\n    return max(values)\n"
RANGE = "def f(values):\n    return max(values) - min(values)\n"
SCALED = "def f(values, scale=2.0):\n    return values[0] * scale + 1\n"


def _plans_in_use():
    if _ndimage._prepare is None:
        pytest.skip("the library has no prepared calls")


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int16", "float32", "float64", "int32"])
@pytest.mark.parametrize("mode", ["reflect", "constant", "nearest", "mirror", "wrap", "grid-wrap"])
def test_repeated_calls_equal_scipy_on_new_data_each_call(dtype, mode):
    _plans_in_use()
    rng = np.random.default_rng(abs(hash((dtype, mode))) % 2**32)
    for width in (15, 16, 17, 31, 32, 33, 63, 64, 65):
        for size in (3, 5, (2, 4)):
            for source, oracle in ((MIN, np.min), (MAX, np.max), (RANGE, np.ptp)):
                for threads in (1, 3):
                    for _ in range(3):  # the first call prepares, the others run the plan
                        image = (rng.integers(0, 200, (9, width)) - (0 if dtype.startswith("u") else 100)).astype(dtype)
                        got = filterjit.generic_filter(image, source, size=size, mode=mode, cval=3.0, threads=threads)
                        expected = ndi.generic_filter(image, oracle, size=size, mode=mode, cval=3.0)
                        assert got.dtype == expected.dtype and np.array_equal(got, expected), (dtype, mode, width, size)


def test_a_repeated_call_with_an_output_array_writes_it():
    _plans_in_use()
    rng = np.random.default_rng(3)
    out = np.empty((40, 70), np.uint8)
    for _ in range(4):
        image = rng.integers(0, 256, (40, 70), dtype=np.uint8)
        result = filterjit.generic_filter(image, MIN, size=3, mode="nearest", output=out, threads=1)
        assert result is out and np.array_equal(out, ndi.minimum_filter(image, size=3, mode="nearest"))
    # Another output dtype: its own plan, SciPy's casting.
    out16 = np.empty((40, 70), np.float32)
    for _ in range(3):
        image = rng.integers(0, 256, (40, 70), dtype=np.uint8)
        filterjit.generic_filter(image, RANGE, size=5, output=out16, threads=2)
        assert np.array_equal(out16, ndi.generic_filter(image, np.ptp, size=5, output=np.float32))


def test_errors_repeat_on_every_call():
    _plans_in_use()
    image = np.zeros((10, 12), np.uint8)
    filterjit.generic_filter(image, MIN, size=2)  # prepares size 2
    for _ in range(3):
        with pytest.raises(TypeError, match="size must be an integer"):
            filterjit.generic_filter(image, MIN, size=2.0)
        with pytest.raises(TypeError, match="size must contain integers"):
            filterjit.generic_filter(image, MIN, size=[2.0, 2])
    readonly = np.empty_like(image)
    readonly.flags.writeable = False
    writable = np.empty_like(image)
    filterjit.generic_filter(image, MIN, size=3, output=writable)
    for _ in range(3):
        with pytest.raises(ValueError, match="read-only"):
            filterjit.generic_filter(image, MIN, size=3, output=readonly)
        with pytest.raises(RuntimeError, match="boundary mode not supported"):
            filterjit.generic_filter(image, MIN, size=3, mode="nearest-ish")
        with pytest.raises(ValueError, match="invalid origin"):
            filterjit.generic_filter(image, MIN, size=3, origin=2)
    # A kernel failure names the same element on every call (the plan's run reports it as the full call).
    bad = "def bad(values):\n    if values[0] > 5:\n        return values[99]\n    return 0.0\n"
    image = np.zeros((30, 20))
    image[12, 7] = 9.0
    messages = set()
    for _ in range(3):
        with pytest.raises(RuntimeError) as failure:
            filterjit.generic_filter(image, bad, size=3, threads=1)
        messages.add(str(failure.value))
    assert len(messages) == 1 and "(13, 8)" in messages.pop()  # values[0]: the window's first tap


def test_cval_negative_zero_and_nan_are_not_confused_with_zero():
    _plans_in_use()
    image = np.arange(30.0).reshape(5, 6) + 1
    for cval in (0.0, -0.0, 0, np.nan, -0.0, 0.0):
        for _ in range(2):
            got = filterjit.generic_filter(image, MIN, size=3, mode="constant", cval=cval)
            expected = ndi.generic_filter(image, min, size=3, mode="constant", cval=cval)
            assert np.array_equal(got, expected, equal_nan=True)
            assert np.array_equal(np.signbit(got), np.signbit(expected)), cval


def test_nan_data_and_an_aliased_output_take_the_full_call():
    _plans_in_use()
    rng = np.random.default_rng(5)
    for _ in range(3):
        image = rng.random((20, 33))
        image[rng.integers(0, 20), rng.integers(0, 33)] = np.nan
        got = filterjit.generic_filter(image, MIN, size=3, mode="nearest")
        assert np.array_equal(got, ndi.generic_filter(image, min, size=3, mode="nearest"), equal_nan=True)
    for _ in range(3):
        image = rng.integers(0, 256, (20, 33), dtype=np.uint8)
        expected = ndi.minimum_filter(image, size=3, mode="nearest")
        filterjit.generic_filter(image, MIN, size=3, mode="nearest", output=image)
        assert np.array_equal(image, expected)


def test_parameters_kernels_and_callables_key_their_plans():
    _plans_in_use()
    image = np.arange(48.0).reshape(6, 8)
    kernel = filterjit.Kernel(SCALED)
    for scale in (2.0, 3.0, 2.0, -0.0, 0.0):
        callable_ = filterjit.jit_filter(SCALED).with_parameters(scale=scale)  # one callable: its plan is run
        for _ in range(3):
            expected = image * scale + 1
            assert np.array_equal(filterjit.generic_filter(image, SCALED, footprint=[[1]], scale=scale), expected)
            assert np.array_equal(filterjit.generic_filter(image, SCALED, size=1, scale=scale), expected)
            assert np.array_equal(filterjit.generic_filter(image, kernel, size=1, scale=scale), expected)
            assert np.array_equal(filterjit.generic_filter(image, callable_, size=1), expected)
            assert np.array_equal(np.signbit(filterjit.generic_filter(image, SCALED, size=1, scale=scale)),
                                  np.signbit(expected))


def test_non_native_and_strided_inputs_and_many_layouts():
    _plans_in_use()
    rng = np.random.default_rng(7)
    for _ in range(3):
        image = rng.integers(0, 60000, (25, 40)).astype(">u2")
        assert np.array_equal(filterjit.generic_filter(image, MAX, size=5, mode="mirror"),
                              ndi.maximum_filter(image.astype(np.uint16), size=5, mode="mirror"))
        view = rng.integers(0, 256, (30, 80), dtype=np.uint8)[::-2, 1::3]
        assert np.array_equal(filterjit.generic_filter(view, MIN, size=3, mode="wrap"),
                              ndi.minimum_filter(view, size=3, mode="wrap"))
    # More layouts than the cache holds: the oldest go, every result stays right.
    for height in range(1, _ndimage._PLANS_LIMIT + 10):
        image = rng.integers(0, 256, (height, 9), dtype=np.uint8)
        assert np.array_equal(filterjit.generic_filter(image, MIN, size=3, mode="reflect"),
                              ndi.minimum_filter(image, size=3, mode="reflect"))
    assert len(_ndimage._PLANS) <= _ndimage._PLANS_LIMIT


def test_a_plan_is_made_on_the_second_call_and_run_from_the_third(monkeypatch):
    _plans_in_use()
    runs = []
    real_run = _ndimage._run_plan
    monkeypatch.setattr(_ndimage, "_run_plan", lambda *args: runs.append(1) or real_run(*args))
    rng = np.random.default_rng(11)
    shape = (23, 37)  # a layout no other test uses
    plans = len(_ndimage._PLANS)
    for call in range(4):
        image = rng.integers(0, 256, shape, dtype=np.uint8)
        got = filterjit.generic_filter(image, MAX, size=3, mode="wrap", threads=1)
        assert np.array_equal(got, ndi.maximum_filter(image, size=3, mode="wrap"))
        assert len(runs) == max(0, call - 1), call  # calls 0 and 1 take the full path, 1 prepares
    assert len(_ndimage._PLANS) == min(plans + 1, _ndimage._PLANS_LIMIT)
    # Arguments that never repeat (another shape each call) are never planned.
    before = set(_ndimage._PLANS)
    for width in range(40, 46):
        filterjit.generic_filter(rng.integers(0, 256, (5, width), dtype=np.uint8), MAX, size=3, threads=1)
    assert not (set(_ndimage._PLANS) - before)


def test_misaligned_arrays_and_a_replaced_callable_kernel_take_the_full_call():
    _plans_in_use()
    rng = np.random.default_rng(12)
    raw = np.zeros(8 * 30 * 20 + 1, np.uint8)
    image = np.frombuffer(raw.data, dtype=np.float64, count=30 * 20, offset=1).reshape(30, 20)
    assert not image.flags.aligned
    for _ in range(3):
        image[...] = rng.random((30, 20))
        assert _ndimage._plan_key(image, MIN, 3, None, None, "reflect", 0.0, 0, None, 1, "fused", (), None, False,
                                  {}) is None
        assert np.array_equal(filterjit.generic_filter(image, MIN, size=3, threads=1), ndi.minimum_filter(image, size=3))
    callable_ = filterjit.jit_filter(MIN)
    data = rng.random((12, 14))
    for _ in range(3):
        assert np.array_equal(filterjit.generic_filter(data, callable_, size=3, threads=1), ndi.minimum_filter(data, size=3))
    callable_.kernel = filterjit.jit_filter(MAX).kernel
    assert np.array_equal(filterjit.generic_filter(data, callable_, size=3, threads=1), ndi.maximum_filter(data, size=3))


def test_footprint_arrays_key_their_plans_by_content():
    _plans_in_use()
    rng = np.random.default_rng(13)
    disk = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    ring = np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]], bool)
    footprint = disk.copy()
    for round_ in range(8):
        if round_ == 4:
            footprint[...] = ring  # the same array object, other contents: another plan
        image = rng.integers(0, 256, (21, 33), dtype=np.uint8)
        for threads in (1, 2):
            got = filterjit.generic_filter(image, MIN, footprint=footprint, mode="mirror", threads=threads)
            assert np.array_equal(got, ndi.minimum_filter(image, footprint=footprint, mode="mirror")), (round_, threads)
    for _ in range(3):  # size with a footprint: never planned, so every call warns
        with pytest.warns(UserWarning, match="ignoring size"):
            filterjit.generic_filter(image, MIN, size=3, footprint=footprint)


def test_plans_run_through_the_c_extension_when_it_is_built():
    """With the extension in use (scripts/python_tests.sh sets FILTERJIT_EXPECT_FASTCALL=1) a prepared call's arrays
    go to the library without ctypes; with FILTERJIT_NO_FASTCALL=1 (the script's second run) through ctypes."""
    _plans_in_use()
    import os
    if os.environ.get("FILTERJIT_EXPECT_FASTCALL", "0") not in ("", "0"):
        assert _ndimage._run_plan is _ndimage._fast_plan_run is not None
    if os.environ.get("FILTERJIT_NO_FASTCALL", "") not in ("", "0"):
        assert _ndimage._run_plan is _ndimage._run_plan_ctypes
    rng = np.random.default_rng(17)
    image = rng.integers(0, 256, (19, 70), dtype=np.uint8)
    out = np.empty_like(image)
    for _ in range(4):
        assert filterjit.generic_filter(image, MIN, size=3, output=out, threads=1) is out
        assert np.array_equal(out, ndi.minimum_filter(image, size=3))
    if _ndimage._fast_plan_run is not None:  # its own argument check
        with pytest.raises(TypeError, match="plan handle and two ndarrays"):
            _ndimage._fast_plan_run(0, image, [1])


# generic_filter1d: the same plans (filterjit_generic_filter1d_prepare), keyed by filter_size, axis and origin too.
RUNNING = """@line_filter
def running(line, out, scale=1.0):
    size = len(line) - len(out) + 1
    total = 0.0
    for i in range(size):
        total += line[i]
    out[0] = total / size * scale
    for i in range(1, len(out)):
        total += line[i + size - 1] - line[i - 1]
        out[i] = total / size * scale
"""
FAILING = """@line_filter
def failing(line, out):
    for i in range(len(out)):
        out[i] = line[i + 1 + int(line[0] > 90) * 100]
"""


def _plans1d_in_use():
    if _ndimage._prepare1d is None:
        pytest.skip("the library has no prepared generic_filter1d calls")


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64"])
def test_repeated_line_filter_calls_equal_scipy_and_run_the_plan(dtype, monkeypatch):
    _plans1d_in_use()
    runs = []
    real_run = _ndimage._run_plan
    monkeypatch.setattr(_ndimage, "_run_plan", lambda *args: runs.append(1) or real_run(*args))
    rng = np.random.default_rng(21)
    calls = 0
    for shape, axis, size, origin, mode in [((9, 31), 0, 3, 0, "reflect"), ((9, 31), -1, 4, -1, "wrap"),
                                            ((4, 5, 6), 1, 5, 1, "constant"), ((40,), 0, 2, 0, "nearest")]:
        before = len(runs)
        for call in range(4):
            image = (rng.random(shape) * 200).astype(dtype)
            got = filterjit.generic_filter1d(image, RUNNING, size, axis=axis, mode=mode, cval=2.5, origin=origin)
            expected = ndi.uniform_filter1d(image, size, axis=axis, mode=mode, cval=2.5, origin=origin)
            assert got.dtype == expected.dtype and np.array_equal(got, expected), (dtype, shape, axis, call)
            calls += 1
        assert len(runs) - before == 2, (shape, axis)  # calls 0 and 1 take the full path, 1 prepares
    # Calls that differ only in the axis, the filter size or the origin each have their own plan.
    for call in range(3):
        image = (rng.random((8, 8)) * 200).astype(dtype)
        for axis, size, origin in [(0, 3, 0), (1, 3, 0), (0, 5, 0), (0, 5, 1)]:
            got = filterjit.generic_filter1d(image, RUNNING, size, axis=axis, origin=origin)
            assert np.array_equal(got, ndi.uniform_filter1d(image, size, axis=axis, origin=origin)), (axis, size, origin)
    # A parameter keys its own plan (the same layout and output with two scales in turn); the plan writes the
    # output array.
    out = np.empty((6, 7), np.float64)
    before = len(runs)
    for _ in range(3):
        image = (rng.random((6, 7)) * 200).astype(dtype)
        for scale in (2.0, 3.0):
            result = filterjit.generic_filter1d(image, RUNNING, 3, axis=0, output=out, scale=scale)
            assert result is out
            assert np.array_equal(out, ndi.uniform_filter1d(image.astype(np.float64), 3, axis=0) * scale), scale
    assert len(runs) - before == 2  # the third call of each scale


def test_prepared_line_filters_repeat_errors_and_write_in_place(monkeypatch):
    _plans1d_in_use()
    runs = []
    real_run = _ndimage._run_plan
    monkeypatch.setattr(_ndimage, "_run_plan", lambda *args: runs.append(1) or real_run(*args))
    good = np.tile(np.arange(20, dtype=np.float64), (7, 1))
    failing = good.copy()
    failing[:, 5] = 95  # column 5 (a line along axis 0) fails
    for _ in range(2):  # two calls that pass: the second prepares
        filterjit.generic_filter1d(good, FAILING, 3, axis=0)
    messages = []
    for _ in range(3):  # the plan runs, and fails as the full call does
        with pytest.raises(Exception) as raised:
            filterjit.generic_filter1d(failing, FAILING, 3, axis=0)
        messages.append((type(raised.value), str(raised.value)))
    assert len(runs) == 3
    with pytest.raises(Exception) as raised:
        filterjit.generic_filter1d(failing, FAILING, 3, axis=0, threads=1)  # another key: the full call
    assert set(messages) == {(type(raised.value), str(raised.value))} and "(0, 5)" in messages[0][1], messages
    # The output is the input: each call filters the previous result, as SciPy's in-place call does (from the
    # third call through the plan).
    ours, theirs = good.copy(), good.copy()
    runs.clear()
    for _ in range(4):
        filterjit.generic_filter1d(ours, RUNNING, 3, axis=-1, output=ours)
        ndi.uniform_filter1d(theirs, 3, axis=-1, output=theirs)
        assert np.array_equal(ours, theirs)
    assert len(runs) == 2
