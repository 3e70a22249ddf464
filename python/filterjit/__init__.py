"""FilterJIT for Python: filter programs (a Python subset) compiled through LLVM into
scipy.LowLevelCallable objects, and FilterJIT's threaded driver on NumPy arrays. No Numba needed.

    from filterjit import jit_filter_function

    @jit_filter_function
    def fmin(values):
        result = np.inf
        for v in values:
            if v < result:
                result = v
        return result

    scipy.ndimage.generic_filter(image, fmin, footprint=fp)

`filterjit.jit` compiles array functions (loops over whole arrays, as with `numba.jit`):

    @filterjit.jit
    def addarr(x, y):
        result = np.zeros_like(x)
        for i in range(x.size):
            result[i] = x[i] + y[i]
        return result

`filterjit.ndimage` is a drop-in for scipy.ndimage's window reductions (median_filter, ...).
"""

from ._array_function import Dispatcher, array_function, jit
from ._kernel import (CompileError, JITCallable, Kernel, Parameter, jit_filter, jit_filter1d,
                      jit_filter1d_function, jit_filter_function, jit_geometric_function, jit_transform)
from ._lib import library_path, version as library_version
from ._ndimage import generic_filter, generic_filter1d, geometric_transform, map_coordinates

__version__ = "0.1.0"

__all__ = [
    "CompileError", "JITCallable", "Kernel", "Parameter", "Dispatcher", "jit", "array_function",
    "jit_filter", "jit_filter1d", "jit_transform",
    "jit_filter_function", "jit_filter1d_function", "jit_geometric_function",
    "generic_filter", "generic_filter1d", "geometric_transform", "map_coordinates", "cancel", "reset_cancellation",
    "library_path", "library_version", "ndimage",
]


def __getattr__(name: str) -> object:
    # `filterjit.ndimage` after a plain `import filterjit`, imported on first use to keep the import quick.
    if name == "ndimage":
        import importlib
        return importlib.import_module(".ndimage", __name__)
    raise AttributeError(f"module 'filterjit' has no attribute {name!r}")


def cancel() -> None:
    """Makes every running and later `while` loop of FilterJIT kernels in this process fail."""
    from . import _lib
    _lib.lib.filterjit_engine_cancel(_lib.engine())


def reset_cancellation() -> None:
    """Clears the flag set by `cancel()`."""
    from . import _lib
    _lib.lib.filterjit_engine_reset_cancellation(_lib.engine())
