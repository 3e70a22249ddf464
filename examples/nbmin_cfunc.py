import numpy as np
from numba import cfunc, carray
from numba.types import intc, intp, float64, voidptr, CPointer

@cfunc(intc(CPointer(float64), intp, CPointer(float64), voidptr))
def nbmin(values_ptr, len_values, result, data):
    values = carray(values_ptr, (len_values,), dtype=float64)
    result[0] = np.inf
    for v in values:
        if v < result[0]:
            result[0] = v
    return 1
