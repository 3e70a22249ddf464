"""The published Numba example, unchanged but for the decorator's import: adds two arrays element by
element, as NumPy's `a + b` does (a uint8 sum wraps). `filterjit.jit` compiles it per call signature:

    addarr(np.arange(5, dtype=np.uint8), np.full(5, 254, dtype=np.uint8))   # array([254, 255, 0, 1, 2], dtype=uint8)
"""

import numpy as np
from filterjit import jit


@jit
def addarr(x, y):
    result = np.zeros_like(x)
    for i in range(x.size):
        result[i] = x[i] + y[i]
    return result

