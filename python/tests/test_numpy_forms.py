"""Issue 13: filter functions written the way scipy.ndimage.generic_filter users write them (NumPy on the
window) compile unchanged and give SciPy's bits through both engines, on several modes and dtypes.

SciPy runs the same text as a Python function (conftest.plain_python) and is the oracle."""
import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
from conftest import plain_python

NATURAL = {
    "local_binary_pattern": """
def lbp(values):
    order = [0, 1, 2, 5, 8, 7, 6, 3]
    ring = values[order]
    return np.sum((ring >= values[4]).astype(int) * np.array([1, 2, 4, 8, 16, 32, 64, 128]))
""",
    "variance": """
def variance(values):
    return ((values - values.mean()) ** 2).mean()
""",
    "sobel_magnitude": """
import numpy as np
KX = np.array([-1, 0, 1, -2, 0, 2, -1, 0, 1])
KY = np.array([-1, -2, -1, 0, 0, 0, 1, 2, 1])

def sobel(values):
    gx = np.sum(values * KX)
    gy = np.sum(values * KY)
    return np.sqrt(gx * gx + gy * gy)
""",
    "count_above_mean": """
def above(values):
    return np.sum(values > values.mean())
""",
    "mean_of_bright": """
def bright(values, t=0.5):
    chosen = values[values > t]
    return chosen.mean() if len(chosen) > 0 else 0.0
""",
    "median_absolute_deviation": """
def mad(values):
    return np.median(np.abs(values - np.median(values)))
""",
    "majority": """
def majority(values):
    return np.bincount(values.astype(int)).argmax()
""",
    "game_of_life": """
def life(values):
    alive = values[4] > 0
    n = np.sum(values > 0) - (1 if alive else 0)
    return 1.0 if n == 3 or (alive and n == 2) else 0.0
""",
    "range_and_clip": """
def rng(values):
    return np.ptp(np.clip(values, 0.2, 0.8)) + np.where(values > 0.5, 1.0, 0.0).sum()
""",
    "distinct_values": """
def distinct(values):
    return len(np.unique(values))
""",
    "histogram_mode": """
def mode(values):
    hist, _ = np.histogram(values, bins=4, range=(0, 4))
    return hist.argmax()
""",
    "slices": """
def slices(values):
    return values[::2].sum() - values[-3:].max() + values[1:4].mean()
""",
    "weighted_average": """
import numpy as np
W = (1, 2, 1, 2, 4, 2, 1, 2, 1)

def smooth(values):
    return np.average(values, weights=W)
""",
}

MODES = ["reflect", "nearest", "mirror", "wrap", "constant"]


def images():
    rng = np.random.default_rng(1313)
    yield "float64", rng.random((13, 11))
    yield "uint8", rng.integers(0, 4, (12, 10)).astype(np.uint8)
    yield "int16", rng.integers(-3, 5, (9, 14)).astype(np.int16)
    yield "float32", (rng.random((10, 10)) * 3).astype(np.float32)


def assert_filter_equals_scipy(name, text, plain, prepare=lambda image: image):
    """`text` through both engines equals SciPy's generic_filter with `plain` on MODES x images(), bit for bit
    (NaN payloads included: both run the same IEEE operations)."""
    for dtype, image in images():
        image = prepare(image)
        for mode in MODES:
            with np.errstate(all="ignore"):
                expected = ndi.generic_filter(image, plain, size=3, mode=mode, cval=1.0)
            for engine in ("fused", "callback"):
                actual = filterjit.generic_filter(image, text, size=3, mode=mode, cval=1.0, engine=engine)
                assert actual.dtype == expected.dtype
                np.testing.assert_array_equal(actual.view(np.uint8), expected.view(np.uint8),
                                              err_msg=f"{name} {dtype} {mode} {engine}")


@pytest.mark.parametrize("name", sorted(NATURAL))
def test_natural_numpy_filter_equals_scipy(name):
    # bincount needs non-negative ints.
    prepare = (lambda image: np.floor(np.abs(image) * 3).astype(image.dtype)) if name == "majority" else (lambda image: image)
    assert_filter_equals_scipy(name, NATURAL[name], plain_python(NATURAL[name]), prepare)


KX = np.array([-1, 0, 1, -2, 0, 2, -1, 0, 1])
WEIGHTS = (1, 2, 1)
THRESHOLD = 0.25
ORDER = [0, 1, 2, 5, 8, 7, 6, 3]
NOT_A_CONSTANT = {"a": 1}


def test_decorated_function_reads_module_constants_frozen_at_decoration():
    @filterjit.jit_filter_function
    def f(values):
        ring = values[ORDER]
        return np.sum(values * KX) * THRESHOLD + WEIGHTS[1] + np.sum(ring > values[4])

    image = np.random.default_rng(3).random((10, 12))
    expected = ndi.generic_filter(image, f.py_func, size=3)
    np.testing.assert_array_equal(ndi.generic_filter(image, f, size=3), expected)
    np.testing.assert_array_equal(filterjit.generic_filter(image, f, size=3), expected)
    assert "THRESHOLD = 0.25" in f.kernel.source and "KX = np.array([-1, 0, 1" in f.kernel.source
    assert "NOT_A_CONSTANT" not in f.kernel.source
