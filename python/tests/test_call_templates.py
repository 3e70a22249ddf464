"""Calls whose arguments never repeat (a new shape or a new cval each call) run from a call template
(filterjit._ndimage `_TEMPLATES`: the normalised arguments of an earlier full call, the C call through the extension):
the same results and the same errors as the full call."""

import os

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from filterjit import _ndimage

MIN = "def f(values):\n    return min(values)\n"
RANGE = "def f(values):\n    return max(values) - min(values)\n"
RUNNING = """@line_filter
def running(line, out, scale=1.0):
    size = len(line) - len(out) + 1
    for i in range(len(out)):
        total = 0.0
        for k in range(size):
            total += line[i + k]
        out[i] = total / size * scale
"""


def _templates_in_use():
    # scripts/python_tests.sh sets FILTERJIT_EXPECT_FASTCALL=1: there the extension must take these calls.
    if os.environ.get("FILTERJIT_EXPECT_FASTCALL", "0") not in ("", "0"):
        assert _ndimage._fast_filter_call is not None and _ndimage._fast_filter1d_call is not None
    if _ndimage._fast_filter_call is None:
        pytest.skip("the C extension is not in use")


@pytest.fixture
def normalisations(monkeypatch):
    """How many calls normalised their arguments (the full call's first step)."""
    count = []
    real = _ndimage._kernel_and_values
    monkeypatch.setattr(_ndimage, "_kernel_and_values", lambda *args, **kw: count.append(1) or real(*args, **kw))
    return count


@pytest.mark.parametrize("dtype", ["uint8", "int16", "float32", "float64"])
def test_new_shapes_and_cvals_each_call_take_the_template_and_equal_scipy(dtype, normalisations):
    _templates_in_use()
    rng = np.random.default_rng(31)
    for mode in ("reflect", "constant", "wrap"):
        for source, oracle, size in ((MIN, np.min, 3), (RANGE, np.ptp, (2, 5))):
            before = len(normalisations)
            for call in range(6):
                shape = (7 + call, 61 + 3 * call)  # never the same shape twice: no plan
                image = (rng.integers(0, 100, shape)).astype(dtype)
                cval = float(call + 1)  # exact in every dtype here
                got = filterjit.generic_filter(image, source, size=size, mode=mode, cval=cval, threads=1)
                expected = ndi.generic_filter(image, oracle, size=size, mode=mode, cval=cval)
                assert got.dtype == expected.dtype and np.array_equal(got, expected), (mode, size, call)
            # The first call of these arguments (in this test) may normalise; the others run the template.
            assert len(normalisations) - before <= 1, (mode, size)
    # A mode, a size or a rank of its own is its own template: results above checked each against SciPy.
    volume = rng.integers(0, 100, (4, 5, 6)).astype(dtype)
    got = filterjit.generic_filter(volume, MIN, size=3, mode="wrap", threads=1)
    assert np.array_equal(got, ndi.minimum_filter(volume, size=3, mode="wrap"))


def test_line_filters_with_new_shapes_take_the_template(normalisations):
    _templates_in_use()
    rng = np.random.default_rng(32)
    for axis, size, origin, mode in [(0, 3, 0, "reflect"), (-1, 4, -1, "constant"), (1, 5, 1, "nearest")]:
        before = len(normalisations)
        for call in range(5):
            image = rng.random((6 + call, 9 + call))
            got = filterjit.generic_filter1d(image, RUNNING, size, axis=axis, mode=mode, cval=call + 0.5, origin=origin)
            expected = ndi.uniform_filter1d(image, size, axis=axis, mode=mode, cval=call + 0.5, origin=origin)
            assert np.allclose(got, expected, rtol=1e-12, atol=1e-12), (axis, call)
        assert len(normalisations) - before <= 1, axis


def test_templated_calls_raise_what_the_full_call_raises(normalisations):
    _templates_in_use()
    image = np.zeros((10, 12), np.uint8)
    filterjit.generic_filter(image, MIN, size=3, mode="mirror")  # makes the template
    before = len(normalisations)
    other = np.zeros((11, 13), np.uint8)
    with pytest.raises(RuntimeError, match="output shape not correct"):
        filterjit.generic_filter(other, MIN, size=3, mode="mirror", output=np.empty((3, 3), np.uint8))
    readonly = np.empty_like(other)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        filterjit.generic_filter(other, MIN, size=3, mode="mirror", output=readonly)
    # A big-endian output: written through a native array, then copied (the full call's rule).
    swapped = np.empty(other.shape, ">f8")
    data = np.arange(other.size, dtype=np.uint8).reshape(other.shape)
    assert filterjit.generic_filter(data, MIN, size=3, mode="mirror", output=swapped) is swapped
    assert np.array_equal(swapped, ndi.minimum_filter(data, size=3, mode="mirror").astype(np.float64))
    assert len(normalisations) == before  # every call above ran from the template
    # A kernel failure names the element and the source line, as the full call does.
    bad = "def bad(values):\n    if values[0] > 5:\n        return values[99]\n    return 0.0\n"
    messages = []
    before = len(normalisations)
    for shape in ((30, 20), (31, 20), (32, 21)):
        failing = np.zeros(shape)
        failing[12, 7] = 9.0
        with pytest.raises(RuntimeError) as failure:
            filterjit.generic_filter(failing, bad, size=3, mode="nearest")
        messages.append(str(failure.value))
    assert "element (13, 8)" in messages[0] and "line 3" in messages[0], messages[0]
    assert messages[1] == messages[2] == messages[0]
    # The first call normalised (and failed: no template); a success then makes one, and failures run from it.
    assert len(normalisations) - before == 3
    filterjit.generic_filter(np.zeros((30, 20)), bad, size=3, mode="nearest")
    before = len(normalisations)
    with pytest.raises(RuntimeError) as failure:
        filterjit.generic_filter(np.pad(np.full((1, 1), 9.0), ((12, 17), (7, 12))), bad, size=3, mode="nearest")
    assert str(failure.value) == messages[0] and len(normalisations) == before


def test_a_replaced_callable_kernel_and_other_parameters_take_their_own_template():
    _templates_in_use()
    rng = np.random.default_rng(33)
    callable_ = filterjit.jit_filter(MIN)
    for width in (20, 21, 22):
        data = rng.random((9, width))
        assert np.array_equal(filterjit.generic_filter(data, callable_, size=3), ndi.minimum_filter(data, size=3))
    callable_.kernel = filterjit.jit_filter(RANGE).kernel
    data = rng.random((9, 23))
    assert np.array_equal(filterjit.generic_filter(data, callable_, size=3), ndi.generic_filter(data, np.ptp, size=3))
    scaled = "def f(values, scale=2.0):\n    return values[4] * scale\n"
    for width, scale in ((30, 2.0), (31, 3.0), (32, 2.0), (33, 5.0)):
        data = rng.random((6, width))
        got = filterjit.generic_filter(data, scaled, size=3, mode="nearest", scale=scale)
        assert np.array_equal(got, data * scale), (width, scale)


def test_a_templated_call_prepares_on_the_second_sighting_of_its_arguments(monkeypatch):
    _templates_in_use()
    runs = []
    real_run = _ndimage._run_plan
    monkeypatch.setattr(_ndimage, "_run_plan", lambda *args: runs.append(1) or real_run(*args))
    rng = np.random.default_rng(34)
    filterjit.generic_filter(rng.random((5, 5)), RANGE, size=3, mode="grid-wrap", threads=1)  # the template
    shape = (27, 41)  # a layout no other test uses
    for call in range(4):
        image = rng.random(shape)
        got = filterjit.generic_filter(image, RANGE, size=3, mode="grid-wrap", threads=1)
        assert np.array_equal(got, ndi.generic_filter(image, np.ptp, size=3, mode="grid-wrap"))
        assert len(runs) == max(0, call - 1), call  # calls 0 and 1 run the template, 1 prepares


def test_the_extension_checks_its_filter_call_arguments():
    _templates_in_use()
    image = np.zeros((3, 3))
    with pytest.raises(TypeError, match="takes 17 arguments"):
        _ndimage._fast_filter_call(0, image, image)
    with pytest.raises(TypeError, match="takes two ndarrays"):
        _ndimage._fast_filter_call(*([0, image, 10, [1], 10] + [0] * 6 + [0.0] + [0] * 5))
    with pytest.raises(ValueError, match="shapes differ"):
        _ndimage._fast_filter1d_call(*([0, image, 10, np.zeros((3, 4)), 10] + [0] * 3 + [0.0] + [0] * 5))
    with pytest.raises(TypeError, match="must be an int"):
        _ndimage._fast_filter1d_call(*([0, image, 10, image, 10] + ["x"] + [0] * 2 + [0.0] + [0] * 5))
    readonly = np.zeros((3, 3))
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _ndimage._fast_filter_call(*([0, image, 10, readonly, 10] + [0] * 6 + [0.0] + [0] * 5))


def test_rank_filter_sizes_and_object_footprints_are_not_confused():
    """The rank filters' box footprint is found by integer sizes only (3.0 is an error whatever ran before), and an
    object-dtype footprint keys no plan or template (its bytes are addresses)."""
    from filterjit import ndimage as fj
    rng = np.random.default_rng(35)
    image = rng.random((9, 11))
    expected = ndi.median_filter(image, size=3)
    assert np.array_equal(fj.median_filter(image, size=3), expected)
    assert np.array_equal(fj.median_filter(image, size=(np.array(3), np.int64(3))), expected)
    with pytest.raises(TypeError):
        fj.median_filter(image, size=3.0)
    footprint = np.array([[True, 1, 0], [0, 1, None], [1, 1, 1]], dtype=object)
    assert _ndimage._plan_key(image, MIN, None, footprint, None, "reflect", 0.0, 0, None, None, "fused", (), None,
                              False, {}) is None
