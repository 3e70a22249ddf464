"""The README example, runnable as is: `PYTHONPATH=python python3 python/example.py` (no Numba needed)."""

import numpy as np
import scipy.ndimage as ndi
from filterjit import jit_filter_function

image = np.random.default_rng(0).random((512, 512))
fp = ndi.generate_binary_structure(2, 1)


@jit_filter_function
def fmin(values):
    result = np.inf
    for v in values:
        if v < result:
            result = v
    return result


result = ndi.generic_filter(image, fmin, footprint=fp)
assert np.array_equal(result, ndi.grey_erosion(image, footprint=fp))
print("fmin through scipy.ndimage.generic_filter equals grey_erosion:", result.shape, result.dtype)
