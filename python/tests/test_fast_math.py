"""fast_math=True: float np.sum / np.mean over 2-D boxes run as O(1)-per-pixel box sums whose last bits
may differ from the exact result, within the bound of docs/window-strategies.md; without it, SciPy's bits."""
import math

import numpy as np
import pytest
import scipy.ndimage as ndi

import filterjit
import filterjit.ndimage as fjnd

MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


def stated_bound(rows, columns, absolute_sum, mean):
    """docs/window-strategies.md, "Fast-math float sums": (k + L + n/8 + log2 n + 12 (+3 for a mean)) u sum|x|."""
    n = rows * columns
    depth = rows + columns + n / 8 + math.log2(n) + 12 + (3 if mean else 0)
    return depth * 2.0 ** -53 * absolute_sum / (n if mean else 1) * 1.0001


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", MODES)
def test_fast_math_means_are_within_the_stated_bound_of_scipy(dtype, mode):
    seed = 12
    rng = np.random.default_rng(seed)
    x = ((rng.random((70, 90)) - 0.5) * 10.0 ** rng.integers(-6, 7, (70, 90))).astype(dtype)
    x[20:27] *= 1e6  # a band of large values next to small ones
    for k in (3, 9, 15):
        exact = ndi.generic_filter(x, np.mean, size=k, mode=mode, cval=0.5)
        absolute = ndi.generic_filter(x.astype(np.float64), lambda v: np.sum(np.abs(v)), size=k, mode=mode, cval=0.5)
        fast = filterjit.generic_filter(x, "np.mean(values)", size=k, mode=mode, cval=0.5, fast_math=True, threads=2)
        assert fast.dtype == x.dtype
        allowed = stated_bound(k, k, absolute, True)
        if dtype == np.float32:
            allowed = allowed + np.maximum(np.abs(fast), np.abs(exact)).astype(np.float64) * 2.0 ** -23
        difference = np.abs(fast.astype(np.float64) - exact.astype(np.float64))
        assert (difference <= allowed).all(), f"seed {seed} k {k}: worst {difference.max()}"


def test_fast_math_is_off_by_default_and_propagates_nan_and_infinity():
    rng = np.random.default_rng(3)
    x = rng.random((40, 50))
    for k in (3, 9, 15):
        default = filterjit.generic_filter(x, "np.mean(values)", size=k, mode="nearest")
        assert np.array_equal(default, ndi.generic_filter(x, np.mean, size=k, mode="nearest"))
    x[5, 7], x[30, 30], x[30, 33] = np.nan, np.inf, -np.inf
    x[12, 40] = np.inf
    with np.errstate(invalid="ignore"):  # inf - inf in the exact sums
        exact = ndi.generic_filter(x, np.sum, size=9, mode="nearest")
    fast = filterjit.generic_filter(x, "np.sum(values)", size=9, mode="nearest", fast_math=True)
    assert np.array_equal(np.isnan(fast), np.isnan(exact))
    assert np.array_equal(np.isinf(fast), np.isinf(exact))
    assert np.array_equal(fast[np.isinf(exact)], exact[np.isinf(exact)])
    # filterjit.ndimage.generic_filter passes it through.
    also = fjnd.generic_filter(x, "np.sum(values)", size=9, mode="nearest", fast_math=True)
    assert np.array_equal(also, fast, equal_nan=True)


def test_fast_math_bits_do_not_depend_on_the_thread_count():
    x = np.random.default_rng(5).standard_normal((301, 257)) * 1e3
    one = filterjit.generic_filter(x, "np.mean(values)", size=(17, 31), mode="wrap", fast_math=True, threads=1)
    for threads in (2, 3):
        other = filterjit.generic_filter(x, "np.mean(values)", size=(17, 31), mode="wrap", fast_math=True,
                                         threads=threads)
        assert np.array_equal(one.view(np.uint64), other.view(np.uint64))
