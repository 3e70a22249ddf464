"""Finding and loading libFilterJITC, and the ctypes declarations of include/filterjit.h."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from pathlib import Path

_LIBRARY_NAMES = ("libFilterJITC.so", "libFilterJITC.dylib")

# Status codes of filterjit.h.
OK, ERROR_ARGUMENT, ERROR_KERNEL, ERROR_SIZE, ERROR_COMPILE, ERROR_INTERNAL = range(6)
# Kernel kinds, in the order of FILTERJIT_KIND_*.
KINDS = ("filter", "line_filter", "transform")
# Element types, in the order of FILTERJIT_BOOL ... FILTERJIT_FLOAT64.
DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64")
# Array-function argument kinds (FILTERJIT_ARGUMENT_*) and result kinds (FILTERJIT_RESULT_*).
ARGUMENT_ARRAY, ARGUMENT_INT, ARGUMENT_FLOAT, ARGUMENT_BOOL = range(4)
RESULT_NONE, RESULT_INT, RESULT_FLOAT, RESULT_BOOL, RESULT_ARRAY, RESULT_UINT64 = range(6)
# Flags of filterjit_generic_filter_flags (FILTERJIT_FLAG_*).
FLAG_FAST_MATH = 1
# Boundary modes, in the order of FILTERJIT_MODE_*.
MODES = ("reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant", "grid-wrap")


def _candidates() -> list[Path]:
    """Where the library may be: $FILTERJIT_LIB, next to the package, the repository's build folders."""
    found: list[Path] = []
    explicit = os.environ.get("FILTERJIT_LIB")
    if explicit:
        path = Path(explicit)
        if path.is_dir():
            found.extend(path / name for name in _LIBRARY_NAMES)
        else:
            found.append(path)
        return found  # an explicit choice is never second-guessed
    package = Path(__file__).resolve().parent
    found.extend(package / name for name in _LIBRARY_NAMES)
    repository = package.parent.parent
    # The release build first (`swift test` relinks the debug one, which is many times slower).
    for folder in ("release", "debug"):
        found.extend(repository / ".build" / folder / name for name in _LIBRARY_NAMES)
    system = ctypes.util.find_library("FilterJITC")
    if system:
        found.append(Path(system))
    return found


def _declare(lib: ctypes.CDLL) -> None:
    """Sets restype/argtypes of every function (ctypes releases the GIL around each call)."""
    c_char_pp = ctypes.POINTER(ctypes.c_void_p)  # char ** (freed with filterjit_string_free)
    p_intp = ctypes.POINTER(ctypes.c_ssize_t)
    p_double = ctypes.POINTER(ctypes.c_double)
    table = {
        "filterjit_version": (ctypes.c_char_p, []),
        "filterjit_string_free": (None, [ctypes.c_void_p]),
        "filterjit_has_nan_or_negative_zero": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int, ctypes.c_ssize_t]),
        "filterjit_engine_create": (ctypes.c_void_p, [c_char_pp]),
        "filterjit_engine_create_with_disk_cache": (ctypes.c_void_p, [ctypes.c_char_p, c_char_pp]),
        "filterjit_engine_free": (None, [ctypes.c_void_p]),
        "filterjit_engine_cancel": (None, [ctypes.c_void_p]),
        "filterjit_engine_reset_cancellation": (None, [ctypes.c_void_p]),
        "filterjit_compile": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                                ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_int), c_char_pp]),
        "filterjit_compile_as": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                                   ctypes.c_ssize_t, ctypes.c_int, ctypes.POINTER(ctypes.c_int), c_char_pp]),
        "filterjit_kernel_free": (None, [ctypes.c_void_p]),
        "filterjit_kernel_kind": (ctypes.c_int, [ctypes.c_void_p]),
        "filterjit_kernel_name": (ctypes.c_char_p, [ctypes.c_void_p]),
        "filterjit_kernel_address": (ctypes.c_void_p, [ctypes.c_void_p]),
        "filterjit_kernel_parameter_count": (ctypes.c_ssize_t, [ctypes.c_void_p]),
        "filterjit_kernel_parameter_name": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_ssize_t]),
        "filterjit_kernel_parameter_type": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_ssize_t]),
        "filterjit_kernel_parameter_default": (ctypes.c_double, [ctypes.c_void_p, ctypes.c_ssize_t]),
        "filterjit_kernel_loaded_from_disk_cache": (ctypes.c_int, [ctypes.c_void_p]),
        "filterjit_kernel_parameter_required": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_ssize_t]),
        "filterjit_generic_filter": (ctypes.c_int, [
            ctypes.c_void_p,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_void_p, ctypes.c_int, p_intp,
            ctypes.POINTER(ctypes.c_uint8), ctypes.c_int, p_intp,
            p_intp, p_intp,
            ctypes.c_int, ctypes.c_double,
            p_double, ctypes.c_ssize_t,
            ctypes.c_int, ctypes.c_int, c_char_pp]),
        "filterjit_generic_filter_flags": (ctypes.c_int, [
            ctypes.c_void_p,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_void_p, ctypes.c_int, p_intp,
            ctypes.POINTER(ctypes.c_uint8), ctypes.c_int, p_intp,
            p_intp, p_intp,
            ctypes.c_int, ctypes.c_double,
            p_double, ctypes.c_ssize_t,
            ctypes.c_int, ctypes.c_int, ctypes.c_int, c_char_pp]),
        "filterjit_generic_filter1d": (ctypes.c_int, [
            ctypes.c_void_p,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_void_p, ctypes.c_int, p_intp,
            ctypes.c_ssize_t, ctypes.c_int, ctypes.c_int, ctypes.c_double, ctypes.c_ssize_t,
            p_double, ctypes.c_ssize_t,
            ctypes.c_int, ctypes.c_int, c_char_pp]),
        "filterjit_geometric_transform": (ctypes.c_int, [
            ctypes.c_void_p,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_int, ctypes.c_int, ctypes.c_double, ctypes.c_int,
            p_double, ctypes.c_ssize_t,
            ctypes.c_int, ctypes.c_int, c_char_pp]),
        "filterjit_map_coordinates": (ctypes.c_int, [
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_void_p, ctypes.c_int, ctypes.c_int, p_intp, p_intp,
            ctypes.c_void_p, ctypes.c_int, p_intp,
            ctypes.c_int, ctypes.c_int, ctypes.c_double, ctypes.c_int, ctypes.c_int, c_char_pp]),
        "filterjit_array_function_create": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                                              ctypes.c_char_p, ctypes.c_ssize_t, ctypes.c_int, ctypes.POINTER(ctypes.c_int),
                                                              c_char_pp]),
        "filterjit_array_function_free": (None, [ctypes.c_void_p]),
        "filterjit_array_function_name": (ctypes.c_char_p, [ctypes.c_void_p]),
        "filterjit_array_function_signature_count": (ctypes.c_ssize_t, [ctypes.c_void_p]),
        "filterjit_array_function_signature": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_ssize_t]),
        "filterjit_array_function_ir": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_ssize_t]),
        "filterjit_array_function_call": (ctypes.c_int, [
            ctypes.c_void_p, ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int),
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p),  # const intptr_t *const *shapes, *strides
            ctypes.POINTER(ctypes.c_int64), p_double,
            ctypes.c_int, ctypes.POINTER(ctypes.c_void_p), c_char_pp]),
        "filterjit_array_function_call_packed": (ctypes.c_int, [
            ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_char_p, ctypes.c_ssize_t, ctypes.c_int,
            ctypes.POINTER(ctypes.c_int64), c_char_pp]),
        # (filterjit_array_function_call_objects is declared only on a ctypes.PyDLL, in _array_function.py: once the
        # layout below holds CPython's thread functions, it must be called with the GIL held, which a CDLL call is not.)
        "filterjit_set_array_object_layout": (None, [ctypes.c_ssize_t] * 6 + [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]),
        "filterjit_result_kind": (ctypes.c_int, [ctypes.c_void_p]),
        "filterjit_result_int": (ctypes.c_int64, [ctypes.c_void_p]),
        "filterjit_result_float": (ctypes.c_double, [ctypes.c_void_p]),
        "filterjit_result_argument": (ctypes.c_ssize_t, [ctypes.c_void_p]),
        "filterjit_result_dtype": (ctypes.c_int, [ctypes.c_void_p]),
        "filterjit_result_rank": (ctypes.c_int, [ctypes.c_void_p]),
        "filterjit_result_shape": (p_intp, [ctypes.c_void_p]),
        "filterjit_result_data": (ctypes.c_void_p, [ctypes.c_void_p]),
        "filterjit_result_free": (None, [ctypes.c_void_p]),
    }
    for name, (restype, argtypes) in table.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes


def _load() -> tuple[ctypes.CDLL, Path]:
    errors = []
    for path in _candidates():
        if not path.exists():
            errors.append(f"{path}: not found")
            continue
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as error:
            errors.append(f"{path}: {error}")
            continue
        _declare(lib)
        return lib, path
    tried = "\n  ".join(errors) or "(no candidates)"
    raise ImportError(
        "filterjit: cannot find libFilterJITC. Build it with `swift build -c release --product FilterJITC` "
        "in the FilterJIT repository, or set FILTERJIT_LIB to the library's path. Tried:\n  " + tried)


lib, library_path = _load()
version = lib.filterjit_version().decode()


def take_string(pointer: ctypes.c_void_p) -> str:
    """The text of a char * the library handed out, freeing it."""
    if not pointer.value:
        return ""
    try:
        return ctypes.string_at(pointer.value).decode("utf-8", errors="replace")
    finally:
        lib.filterjit_string_free(pointer.value)


_engine_lock = threading.Lock()
_engine = None


def engine() -> int:
    """The process's engine handle, started on first use. It keeps compiled kernels in the on-disk
    cache ($FILTERJIT_CACHE_DIR, else ~/.cache/filterjit) unless FILTERJIT_DISK_CACHE=0, so a new
    process (a Dask worker unpickling a kernel) loads machine code instead of compiling."""
    global _engine
    with _engine_lock:
        if _engine is None:
            error = ctypes.c_void_p()
            if os.environ.get("FILTERJIT_DISK_CACHE", "1") == "0":
                handle = lib.filterjit_engine_create(ctypes.byref(error))
            else:
                handle = lib.filterjit_engine_create_with_disk_cache(None, ctypes.byref(error))
            if not handle:
                raise RuntimeError(take_string(error) or "cannot start the FilterJIT engine")
            _engine = handle
        return _engine
