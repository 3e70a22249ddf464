# A 3-tap mean for scipy.ndimage.generic_filter1d (filter_size=3), as a Numba raw callback.
import numba
from numba import types

@numba.cfunc(types.intc(types.CPointer(types.float64), types.intp, types.CPointer(types.float64), types.intp, types.voidptr))
def mean3(input_line, input_length, output_line, output_length, data):
    inp = numba.carray(input_line, (input_length,), dtype=types.float64)
    out = numba.carray(output_line, (output_length,), dtype=types.float64)
    for i in range(output_length):
        out[i] = (inp[i] + inp[i + 1] + inp[i + 2]) / 3.0
    return 1
