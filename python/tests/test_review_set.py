"""Issue 13's review set: filter functions written the way users of scipy.ndimage write them (local
binary patterns, variance, entropy, majority, edges, thresholds, percentiles, Game of Life, 1-D
smoothing, shifts and rotations), each as plain Python text, run through SciPy (the oracle: the same
text executed by CPython + NumPy) and through FilterJIT's two engines on five modes and four dtypes,
compared bit for bit.

test_numpy_forms.py holds 13 more of them (NATURAL); this file adds the rest, so the whole set is
REVIEW_FILTERS + NATURAL + LINE_FILTERS + TRANSFORMS (40 and more). A function that a user writes and
FilterJIT refuses fails here with FilterJIT's message."""
import ctypes
import ctypes.util

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import plain_python
from test_numpy_forms import MODES, NATURAL, assert_filter_equals_scipy, images

REVIEW_FILTERS = {
    "std": """
def local_std(values):
    return np.std(values)
""",
    "var_method": """
def local_var(values):
    return values.var()
""",
    "entropy": """
def entropy(values):
    hist, _ = np.histogram(values, bins=8, range=(0, 8))
    p = hist / len(values)
    p = p[p > 0]
    return -np.sum(p * np.log2(p))
""",
    "range": """
def value_range(values):
    return np.max(values) - np.min(values)
""",
    "threshold_at_mean": """
def above_mean(values):
    return 1.0 if values[4] > np.mean(values) else 0.0
""",
    "adaptive_threshold": """
def adaptive(values, offset=0.1):
    centre = values[len(values) // 2]
    return float(centre > np.mean(values) - offset)
""",
    "percentile_90": """
def p90(values):
    return np.percentile(values, 90)
""",
    "interquartile_range": """
def iqr(values):
    q75, q25 = np.percentile(values, [75, 25])
    return q75 - q25
""",
    "contrast_stretch": """
def stretch(values):
    mn = values.min()
    mx = values.max()
    if mx > mn:
        return (values[4] - mn) / (mx - mn)
    return 0.0
""",
    "laplacian": """
import numpy as np
LAPLACE = np.array([0, 1, 0, 1, -4, 1, 0, 1, 0])

def laplacian(values):
    return np.sum(values * LAPLACE)
""",
    "prewitt_hypot": """
import math

def prewitt(values):
    gx = (values[2] + values[5] + values[8]) - (values[0] + values[3] + values[6])
    gy = (values[6] + values[7] + values[8]) - (values[0] + values[1] + values[2])
    return math.hypot(gx, gy)
""",
    "is_local_maximum": """
def peak(values):
    return 1.0 if values[4] == values.max() else 0.0
""",
    "count_nonzero": """
def nonzero(values):
    return np.count_nonzero(values)
""",
    "any_above": """
def any_above(values):
    return float(np.any(values > 2))
""",
    "all_positive": """
def all_positive(values):
    return float(np.all(values > 0))
""",
    "mean_absolute_deviation": """
def mean_abs_dev(values):
    return np.mean(np.abs(values - values.mean()))
""",
    "rank_of_centre": """
def rank(values):
    return np.sum(values < values[4])
""",
    "trimmed_mean": """
def trimmed(values):
    s = np.sort(values)
    return s[1:-1].mean()
""",
    "geometric_mean": """
def gmean(values):
    return np.exp(np.mean(np.log(values + 1.0)))
""",
    "harmonic_mean": """
def hmean(values):
    return len(values) / np.sum(1.0 / (values + 1.0))
""",
    "loop_maximum": """
def fmax(values):
    result = -np.inf
    for v in values:
        if v > result:
            result = v
    return result
""",
    "argmax": """
def where_max(values):
    return np.argmax(values)
""",
    "mode_by_unique": """
def mode(values):
    vals, counts = np.unique(values, return_counts=True)
    return vals[np.argmax(counts)]
""",
    "cumulative_sum": """
def last_cumsum(values):
    return np.cumsum(values)[-1]
""",
    "clip_centre": """
def clipped(values):
    return np.clip(values[4], 0.2, 0.8)
""",
    "cross_minimum_by_index": """
def cross_min(values):
    return values[[1, 3, 4, 5, 7]].min()
""",
    "nan_mean": """
def nan_mean(values):
    return np.nanmean(values)
""",
    "sum_of_squares_loop": """
def energy(values):
    total = 0.0
    for i in range(len(values)):
        total += values[i] * values[i]
    return total
""",
    "max_abs": """
def max_abs(values):
    return np.max(np.abs(values))
""",
    "scaled_max": """
def scaled(values):
    return np.max(values * 2.0) - np.min(values + 1.0)
""",
    "sobel_by_dot": """
import numpy as np
KX = np.array([-1, 0, 1, -2, 0, 2, -1, 0, 1])
KY = np.array([-1, -2, -1, 0, 0, 0, 1, 2, 1])

def sobel_dot(values):
    return np.hypot(np.dot(values, KX), values.dot(KY))
""",
    "count_in_band": """
def band(values, lo=0.25, hi=0.75):
    return np.count_nonzero((values >= lo) & (values <= hi))
""",
}

LINE_FILTERS = {
    "moving_average_slices": """
def smooth(line, out):
    for i in range(len(out)):
        out[i] = np.mean(line[i:i + 3])
""",
    "moving_average_loop": """
def smooth(line, out):
    for i in range(len(out)):
        out[i] = (line[i] + line[i + 1] + line[i + 2]) / 3.0
""",
    "central_difference": """
def diff(line, out):
    for i in range(len(out)):
        out[i] = (line[i + 2] - line[i]) / 2.0
""",
    "running_max": """
def running_max(line, out):
    for i in range(len(out)):
        out[i] = max(line[i:i + 3])
""",
}

TRANSFORMS = {
    "shift": """
def shift(out):
    return (out[0] - 0.5, out[1] - 1.25)
""",
    "rotation": """
import math

def rotate(out, angle=0.3):
    c = math.cos(angle)
    s = math.sin(angle)
    y = out[0] - 5.0
    x = out[1] - 5.0
    return (c * y - s * x + 5.0, s * y + c * x + 5.0)
""",
    "zoom": """
def zoom(out):
    return (out[0] * 0.5, out[1] * 0.5)
""",
}


# FilterJIT's transcendental functions are glibc's libm on arrays too (docs/language-numpy.md): NumPy 2.4's
# own SIMD loops differ from libm in the last bit for some inputs on this machine (np.exp on ~4% of
# them). Functions using them are checked against the same text with libm's functions standing in for
# NumPy's (called through ctypes, so IEEE results for 0 and negatives, as NumPy gives).
_LIBM = ctypes.CDLL(ctypes.util.find_library("m"))


def _libm_ufunc(name):
    function = getattr(_LIBM, name)
    function.restype, function.argtypes = ctypes.c_double, [ctypes.c_double]
    return np.vectorize(lambda x: function(float(x)), otypes=[np.float64])


class _LibmNumPy:
    """NumPy, except exp/log/log2/log10 element by element through libm."""
    exp, log, log2, log10 = (_libm_ufunc(name) for name in ("exp", "log", "log2", "log10"))

    def __getattr__(self, name):
        return getattr(np, name)


USES_TRANSCENDENTALS = {"geometric_mean", "entropy"}


def test_the_review_set_has_forty_functions():
    assert len(REVIEW_FILTERS) + len(NATURAL) + len(LINE_FILTERS) + len(TRANSFORMS) >= 40


@pytest.mark.parametrize("name", sorted(REVIEW_FILTERS))
def test_review_filter_equals_scipy(name):
    text = REVIEW_FILTERS[name]
    assert_filter_equals_scipy(name, text, plain_python(text, _LibmNumPy() if name in USES_TRANSCENDENTALS else np))


@pytest.mark.parametrize("name", sorted(LINE_FILTERS))
def test_review_line_filter_equals_scipy(name):
    text = LINE_FILTERS[name]
    plain = plain_python(text)  # SciPy passes output_line as `out`
    for dtype, image in images():
        for axis in (0, 1):
            for mode in MODES:
                expected = ndi.generic_filter1d(image, plain, 3, axis=axis, mode=mode, cval=1.0)
                for engine in ("fused", "callback"):
                    actual = filterjit.generic_filter1d(image, text, 3, axis=axis, mode=mode, cval=1.0, engine=engine)
                    assert actual.dtype == expected.dtype
                    np.testing.assert_array_equal(actual.view(np.uint8), expected.view(np.uint8),
                                                  err_msg=f"{name} {dtype} axis {axis} {mode} {engine}")


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_review_transform_equals_scipy(name):
    text = TRANSFORMS[name]
    plain = plain_python(text)
    for dtype, image in images():
        for mode in MODES:
            for order in (0, 1, 3):
                expected = ndi.geometric_transform(image, plain, order=order, mode=mode, cval=1.0)
                for engine in ("fused", "callback"):
                    actual = filterjit.geometric_transform(image, text, order=order, mode=mode, cval=1.0, engine=engine)
                    assert actual.dtype == expected.dtype
                    np.testing.assert_array_equal(actual.view(np.uint8), expected.view(np.uint8),
                                                  err_msg=f"{name} {dtype} {mode} order {order} {engine}")


def test_undecorated_line_filter_and_mapping_work_as_scipy_callables_and_pickle():
    import pickle
    smooth = filterjit.jit_filter1d(LINE_FILTERS["moving_average_loop"])
    shift = filterjit.jit_transform(TRANSFORMS["shift"])
    assert (smooth.kernel.kind, shift.kernel.kind) == ("line_filter", "transform")
    image = np.random.default_rng(2).random((8, 9))
    np.testing.assert_array_equal(ndi.generic_filter1d(image, smooth, 3),
                                  ndi.generic_filter1d(image, plain_python(LINE_FILTERS["moving_average_loop"]), 3))
    np.testing.assert_array_equal(ndi.geometric_transform(image, shift, order=1),
                                  ndi.geometric_transform(image, plain_python(TRANSFORMS["shift"]), order=1))
    again = pickle.loads(pickle.dumps(smooth))
    np.testing.assert_array_equal(ndi.generic_filter1d(image, again, 3), ndi.generic_filter1d(image, smooth, 3))
    with pytest.raises(filterjit.CompileError, match="must return a number"):
        filterjit.jit_filter(LINE_FILTERS["moving_average_loop"])  # an undecorated def given to generic_filter is a filter


@pytest.mark.parametrize("engine", ["fused", "callback"])
def test_np_dot_has_numpys_bits_at_every_window_length(engine):
    """np.dot is OpenBLAS's ddot in NumPy: vector accumulators over blocks of 16 and 32, a fused
    multiply-add at every step (Numerics.dot). Windows of 1 to 40 taps and around the block sizes."""
    text = """
def f(values):
    return np.dot(values, values * 0.5 + 1.0) + np.dot(values[1:], values[:-1])
"""
    plain = plain_python(text)
    image = np.random.default_rng(11).standard_normal(300) * 100
    for size in list(range(1, 41)) + [47, 48, 63, 64, 65, 95, 96, 97, 127, 128, 129, 200, 255]:
        expected = ndi.generic_filter(image, plain, size=size, mode="reflect")
        actual = filterjit.generic_filter(image, text, size=size, mode="reflect", engine=engine)
        np.testing.assert_array_equal(actual.view(np.uint64), expected.view(np.uint64), err_msg=f"size {size}")
