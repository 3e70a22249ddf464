# A half-pixel shift for scipy.ndimage.geometric_transform, as a Numba raw callback (string signature).
from numba import cfunc, carray
from numba.types import intc, intp, float64, voidptr, CPointer

@cfunc("intc(CPointer(intp), CPointer(float64), intc, intc, voidptr)")
def shift(output_coordinates, input_coordinates, output_rank, input_rank, data):
    out = carray(output_coordinates, (output_rank,), dtype=intp)
    inp = carray(input_coordinates, (input_rank,), dtype=float64)
    for i in range(input_rank):
        inp[i] = out[i] - 0.5
    return 1
