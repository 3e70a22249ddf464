"""The published Numba example, unchanged but for the decorator's import: adds two arrays element by
element, as NumPy's `a + b` does (a uint8 sum wraps)."""

import numpy as np
from filterjit import jit


@jit
def addarr(x, y):
    result = np.zeros_like(x)
    for i in range(x.size):
        result[i] = x[i] + y[i]
    return result


if __name__ == "__main__":
    a = np.arange(10, dtype=np.uint8) * 30
    b = np.full(10, 200, dtype=np.uint8)
    print(addarr(a, b))
    print(np.array_equal(addarr(a, b), a + b))
