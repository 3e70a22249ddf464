/* filterjit.h: the C API of libFilterJITC (FilterJIT as a shared library).
 *
 * Build: `swift build -c release --product FilterJITC` gives .build/release/libFilterJITC.so.
 *
 * Ownership: every `*_create`/`filterjit_compile` result is freed by its `*_free`; every `char *`
 * error text handed out is freed with `filterjit_string_free`. A kernel stays valid (and its
 * function address callable) until `filterjit_kernel_free`, whether or not its engine is still alive.
 * Thread safety: like the engine, every function may be called from any thread at once, on the same
 * or different engines and kernels (a kernel handle must not be freed while another thread uses it).
 * Nothing here calls back into the caller, so a Python caller may release the GIL around every call.
 */
#ifndef FILTERJIT_H
#define FILTERJIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An engine: an LLVM JIT session plus a kernel cache. Opaque. */
typedef struct filterjit_engine filterjit_engine;
/* A compiled kernel (keeps its machine code alive). Opaque. */
typedef struct filterjit_kernel filterjit_kernel;

/* Status codes of the functions that return `int`. */
enum {
    FILTERJIT_OK = 0,
    FILTERJIT_ERROR_ARGUMENT = 1, /* a bad argument (shape, origin, mode, parameter count, ...) */
    FILTERJIT_ERROR_KERNEL = 2,   /* the kernel failed at run time (e.g. an index out of range) */
    FILTERJIT_ERROR_SIZE = 3,     /* a size that overflows or cannot be allocated */
    FILTERJIT_ERROR_COMPILE = 4,  /* the program does not compile */
    FILTERJIT_ERROR_INTERNAL = 5  /* anything else (e.g. LLVM failed) */
};

/* Kernel kinds (the SciPy LowLevelCallable ABI of the kernel's address). */
enum {
    FILTERJIT_KIND_FILTER = 0,      /* int f(double *buffer, intptr_t filter_size, double *return_value, void *user_data) */
    FILTERJIT_KIND_LINE_FILTER = 1, /* int f(double *input_line, intptr_t input_length, double *output_line, intptr_t output_length, void *user_data) */
    FILTERJIT_KIND_TRANSFORM = 2    /* int f(intptr_t *output_coordinates, double *input_coordinates, int output_rank, int input_rank, void *user_data) */
};

/* Element types of arrays (native byte order). */
enum {
    FILTERJIT_BOOL = 0, FILTERJIT_INT8 = 1, FILTERJIT_INT16 = 2, FILTERJIT_INT32 = 3, FILTERJIT_INT64 = 4,
    FILTERJIT_UINT8 = 5, FILTERJIT_UINT16 = 6, FILTERJIT_UINT32 = 7, FILTERJIT_UINT64 = 8,
    FILTERJIT_FLOAT32 = 9, FILTERJIT_FLOAT64 = 10
};

/* Boundary modes (scipy.ndimage names; the grid-* names are aliases in the filter functions). */
enum {
    FILTERJIT_MODE_REFLECT = 0, FILTERJIT_MODE_CONSTANT = 1, FILTERJIT_MODE_NEAREST = 2,
    FILTERJIT_MODE_MIRROR = 3, FILTERJIT_MODE_WRAP = 4, FILTERJIT_MODE_GRID_MIRROR = 5,
    FILTERJIT_MODE_GRID_CONSTANT = 6, FILTERJIT_MODE_GRID_WRAP = 7
};

/* Which driver runs a filter. */
enum {
    FILTERJIT_ENGINE_CALLBACK = 0, /* gather each window into a double buffer, call the SciPy-ABI kernel */
    FILTERJIT_ENGINE_FUSED = 1     /* a compiled whole-image loop specialised for dtype, footprint and mode (the default) */
};

/* The library's version text ("0.1.0"); static storage. */
const char *filterjit_version(void);

/* Frees a string this library returned (NULL is ignored). */
void filterjit_string_free(char *text);

/* 1 when `count` contiguous elements of `dtype` (FILTERJIT_BOOL ... FILTERJIT_FLOAT64) at `data` hold NaN or -0.0, the two values
 * whose bits in a min/max/rank filter depend on the algorithm; 0 when not (integer types never do); -1 for an
 * unknown dtype, a negative count, or NULL data with a positive count. One vectorised pass. */
int filterjit_has_nan_or_negative_zero(const void *data, int dtype, intptr_t count);

/* Starts an engine; NULL on failure, with the reason in *error (if error is not NULL). */
filterjit_engine *filterjit_engine_create(char **error);
/* Starts an engine that also keeps compiled kernels in an on-disk cache, so later processes (e.g. Dask
 * workers unpickling a kernel) load machine code instead of compiling: `directory`, or NULL for
 * $FILTERJIT_CACHE_DIR, else $XDG_CACHE_HOME/filterjit, else ~/.cache/filterjit. NULL on failure. */
filterjit_engine *filterjit_engine_create_with_disk_cache(const char *directory, char **error);
/* Releases an engine (kernels compiled by it stay valid). NULL is ignored. */
void filterjit_engine_free(filterjit_engine *engine);
/* Makes every running and later loop (`while`, and `for` every 65,536 iterations) of this engine's
 * kernels fail ("kernel cancelled"). */
void filterjit_engine_cancel(filterjit_engine *engine);
/* Clears the cancellation flag. */
void filterjit_engine_reset_cancellation(filterjit_engine *engine);

/* Compiles UTF-8 `source` (a one-line expression or `def`s). `function` (NULL: the last `def`) names the
 * kernel; `file_name` (NULL: "<expr>") and `line_offset` (added to every line number) place diagnostics
 * in the file the text came from. On failure returns NULL and sets *error to the rendered diagnostics
 * (`file:line:col: error: message`, the line, a caret) and *status (if not NULL) to a status code. */
filterjit_kernel *filterjit_compile(filterjit_engine *engine, const char *source, const char *function,
                                    const char *file_name, intptr_t line_offset, int *status, char **error);
/* filterjit_compile where an undecorated kernel def is of `kind` (FILTERJIT_KIND_FILTER, _LINE_FILTER or
 * _TRANSFORM) instead of a filter: what generic_filter1d and geometric_transform bindings pass for a plain
 * function's text. Decorated defs and the one-line form keep their own kind. */
filterjit_kernel *filterjit_compile_as(filterjit_engine *engine, const char *source, const char *function,
                                       const char *file_name, intptr_t line_offset, int kind, int *status,
                                       char **error);
/* Releases a kernel; its function address must not be called afterwards. NULL is ignored. */
void filterjit_kernel_free(filterjit_kernel *kernel);

/* The kernel's kind (FILTERJIT_KIND_*). */
int filterjit_kernel_kind(const filterjit_kernel *kernel);
/* The kernel function's name; valid while the kernel lives. */
const char *filterjit_kernel_name(const filterjit_kernel *kernel);
/* The address of the SciPy-ABI function (see FILTERJIT_KIND_*); valid while the kernel lives. Its machine
 * code is compiled on the first call (filterjit_compile only checks the program; the fused drivers never need
 * this function); NULL if LLVM cannot compile it. */
void *filterjit_kernel_address(const filterjit_kernel *kernel);
/* How many run-time parameters the kernel has (the length of its user_data double array). */
intptr_t filterjit_kernel_parameter_count(const filterjit_kernel *kernel);
/* Parameter `index`'s name (NULL when out of range); valid while the kernel lives. */
const char *filterjit_kernel_parameter_name(const filterjit_kernel *kernel, intptr_t index);
/* Parameter `index`'s type: 0 float, 1 int (its double is truncated toward zero); -1 when out of range. */
int filterjit_kernel_parameter_type(const filterjit_kernel *kernel, intptr_t index);
/* Parameter `index`'s default value (NaN when out of range). */
double filterjit_kernel_parameter_default(const filterjit_kernel *kernel, intptr_t index);
/* 1 when parameter `index` was declared without a default (callers must give its value; with a NULL
 * user_data the kernel fails), 0 otherwise, -1 for a bad index. */
int filterjit_kernel_parameter_required(const filterjit_kernel *kernel, intptr_t index);
/* 1 when the kernel's callback machine code (compiled by filterjit_kernel_address) was loaded from the on-disk
 * cache instead of compiled, else 0 (also before it is compiled). */
int filterjit_kernel_loaded_from_disk_cache(const filterjit_kernel *kernel);

/* scipy.ndimage.generic_filter with a FILTERJIT_KIND_FILTER kernel on caller-owned buffers.
 *
 * input/output: `rank` axes of lengths `shape`, byte strides `input_strides`/`output_strides` (any sign),
 * element types `input_dtype`/`output_dtype` (FILTERJIT_*). The caller guarantees every element lies in
 * its buffer. The output may alias the input (the input is read before anything is written).
 * footprint: `footprint_rank` axes of lengths `footprint_shape`, C-ordered bytes (non-zero = tap).
 * axes: the `footprint_rank` input axes the footprint describes (negative counts from the end), or NULL
 * for all axes (then footprint_rank must equal rank). origins: one per footprint axis, or NULL for 0.
 * parameters: the kernel's user_data (parameter_count must equal the kernel's parameter count), or NULL
 * for the defaults. engine: FILTERJIT_ENGINE_*. threads: how many threads the fused engine splits the work
 * into (0 or less: as many as the work keeps busy, at most one per processor; small images run on the calling thread; the callback engine runs on one thread). On failure returns a status code and sets *error. */
int filterjit_generic_filter(const filterjit_kernel *kernel,
                             const void *input, int input_dtype, int rank, const intptr_t *shape,
                             const intptr_t *input_strides,
                             void *output, int output_dtype, const intptr_t *output_strides,
                             const uint8_t *footprint, int footprint_rank, const intptr_t *footprint_shape,
                             const intptr_t *axes, const intptr_t *origins,
                             int mode, double cval,
                             const double *parameters, intptr_t parameter_count,
                             int engine, int threads, char **error);

/* Flags of filterjit_generic_filter_flags. */
enum {
    /* Results may differ from the exact ones in the last bits: float np.sum/np.mean of 2-D and 3-D box windows run
     * as O(1)-per-pixel box sums (another order of additions than NumPy's pairwise sum; error bound in
     * docs/window-strategies.md). Without it every result is bit-exact. */
    FILTERJIT_FLAG_FAST_MATH = 1
};

/* filterjit_generic_filter with `flags`, a combination of FILTERJIT_FLAG_* (0: the same as
 * filterjit_generic_filter); an unknown flag is FILTERJIT_ERROR_ARGUMENT. */
int filterjit_generic_filter_flags(const filterjit_kernel *kernel,
                                   const void *input, int input_dtype, int rank, const intptr_t *shape,
                                   const intptr_t *input_strides,
                                   void *output, int output_dtype, const intptr_t *output_strides,
                                   const uint8_t *footprint, int footprint_rank, const intptr_t *footprint_shape,
                                   const intptr_t *axes, const intptr_t *origins,
                                   int mode, double cval,
                                   const double *parameters, intptr_t parameter_count,
                                   int engine, int threads, int flags, char **error);

/* A generic_filter call prepared for one layout: filterjit_generic_filter_prepare takes the arguments of
 * filterjit_generic_filter_flags, checks them as that call does (on failure: NULL, `*status` and `*error`
 * set as that call would set them), and plans the run for input and output arrays of these element types,
 * shape and strides; it writes nothing to `output` (the arrays' memory is only read). filterjit_filter_plan_run
 * then runs it on arrays of that layout at other addresses (`input`, `output`), with the same result and the
 * same errors as filterjit_generic_filter_flags with those addresses; the plan keeps the kernel alive.
 * A plan may run from several threads at once. Free it with filterjit_filter_plan_free. */
typedef struct filterjit_filter_plan filterjit_filter_plan;
filterjit_filter_plan *filterjit_generic_filter_prepare(const filterjit_kernel *kernel,
                                   const void *input, int input_dtype, int rank, const intptr_t *shape,
                                   const intptr_t *input_strides,
                                   void *output, int output_dtype, const intptr_t *output_strides,
                                   const uint8_t *footprint, int footprint_rank, const intptr_t *footprint_shape,
                                   const intptr_t *axes, const intptr_t *origins,
                                   int mode, double cval,
                                   const double *parameters, intptr_t parameter_count,
                                   int engine, int threads, int flags, int *status, char **error);
int filterjit_filter_plan_run(const filterjit_filter_plan *plan, const void *input, void *output, char **error);
void filterjit_filter_plan_free(filterjit_filter_plan *plan);

/* scipy.ndimage.generic_filter1d with a FILTERJIT_KIND_LINE_FILTER kernel on caller-owned buffers
 * (arguments as for filterjit_generic_filter; `axis` may be negative). */
int filterjit_generic_filter1d(const filterjit_kernel *kernel,
                               const void *input, int input_dtype, int rank, const intptr_t *shape,
                               const intptr_t *input_strides,
                               void *output, int output_dtype, const intptr_t *output_strides,
                               intptr_t filter_size, int axis, int mode, double cval, intptr_t origin,
                               const double *parameters, intptr_t parameter_count,
                               int engine, int threads, char **error);

/* A generic_filter1d call prepared for one layout, as filterjit_generic_filter_prepare prepares a
 * generic_filter call: the arguments of filterjit_generic_filter1d checked as that call checks them (on
 * failure: NULL, `*status` and `*error` set), nothing written to `output`; run it with
 * filterjit_filter_plan_run on arrays of that layout, free it with filterjit_filter_plan_free. */
filterjit_filter_plan *filterjit_generic_filter1d_prepare(const filterjit_kernel *kernel,
                               const void *input, int input_dtype, int rank, const intptr_t *shape,
                               const intptr_t *input_strides,
                               void *output, int output_dtype, const intptr_t *output_strides,
                               intptr_t filter_size, int axis, int mode, double cval, intptr_t origin,
                               const double *parameters, intptr_t parameter_count,
                               int engine, int threads, int *status, char **error);

/* scipy.ndimage.geometric_transform with a FILTERJIT_KIND_TRANSFORM kernel as the mapping, on
 * caller-owned buffers. Input and output have their own rank, shape and strides (bytes); `order`
 * 0-5, `mode` a FILTERJIT_MODE_* code (for interpolation the grid-* modes are not aliases),
 * `prefilter` non-zero for SciPy's spline prefilter. engine: FILTERJIT_ENGINE_FUSED (the kernel's
 * coordinate code compiled into a loop over each output row) or FILTERJIT_ENGINE_CALLBACK (the SciPy
 * callback called per output point); the same bits. Equal to SciPy's results bit for bit. */
int filterjit_geometric_transform(const filterjit_kernel *kernel,
                                  const void *input, int input_dtype, int input_rank, const intptr_t *input_shape,
                                  const intptr_t *input_strides,
                                  void *output, int output_dtype, int output_rank, const intptr_t *output_shape,
                                  const intptr_t *output_strides,
                                  int order, int mode, double cval, int prefilter,
                                  const double *parameters, intptr_t parameter_count,
                                  int engine, int threads, char **error);

/* scipy.ndimage.map_coordinates: output point i is the input interpolated at coordinates[:, i...];
 * the output's shape is coordinates_shape[1:] (its rank coordinates_rank - 1). */
int filterjit_map_coordinates(const void *input, int input_dtype, int input_rank, const intptr_t *input_shape,
                              const intptr_t *input_strides,
                              const void *coordinates, int coordinates_dtype, int coordinates_rank,
                              const intptr_t *coordinates_shape, const intptr_t *coordinates_strides,
                              void *output, int output_dtype, const intptr_t *output_strides,
                              int order, int mode, double cval, int prefilter, int threads, char **error);

/* Array functions (`@array_function`, `@jit`, or an undecorated def; issue 15, docs/array-functions.md): any
 * number of array and scalar arguments, compiled per call signature (each array's dtype and rank, each
 * scalar's kind) on the first call with it and cached like every kernel. Opaque. */
typedef struct filterjit_array_function filterjit_array_function;
/* What an array-function call returned. Opaque; freed with filterjit_result_free. */
typedef struct filterjit_result filterjit_result;

/* Argument kinds of filterjit_array_function_call. */
enum {
    FILTERJIT_ARGUMENT_ARRAY = 0, /* data, dtypes, ranks, shapes, strides (bytes, any sign) */
    FILTERJIT_ARGUMENT_INT = 1,   /* int_values[k] */
    FILTERJIT_ARGUMENT_FLOAT = 2, /* float_values[k] */
    FILTERJIT_ARGUMENT_BOOL = 3   /* int_values[k] != 0 */
};

/* Result kinds of filterjit_result_kind. */
enum {
    FILTERJIT_RESULT_NONE = 0, FILTERJIT_RESULT_INT = 1, FILTERJIT_RESULT_FLOAT = 2, FILTERJIT_RESULT_BOOL = 3,
    FILTERJIT_RESULT_ARRAY = 4, /* a new array (filterjit_result_data ...) or an argument (filterjit_result_argument) */
    FILTERJIT_RESULT_UINT64 = 5 /* a uint64 value: filterjit_result_int gives its bits */
};

/* Which back end runs an array function. */
enum {
    FILTERJIT_ARRAY_ENGINE_JIT = 0,        /* machine code per signature (the default) */
    FILTERJIT_ARRAY_ENGINE_INTERPRETER = 1 /* the reference interpreter */
};

/* Flags of filterjit_array_function_create. */
enum {
    FILTERJIT_ARRAY_UNCHECKED = 1 /* Numba's boundscheck=False: the machine code trusts every index (one out of
                                   * bounds is undefined behaviour); the only way to lose the checks */
};

/* An array function of UTF-8 `source`: `function` (NULL: the last `def`). Only syntax errors are found here
 * (the function is type-checked per call signature); `flags`: 0 or FILTERJIT_ARRAY_UNCHECKED; other arguments
 * as for filterjit_compile. */
filterjit_array_function *filterjit_array_function_create(filterjit_engine *engine, const char *source, const char *function,
                                                          const char *file_name, intptr_t line_offset, int flags,
                                                          int *status, char **error);
/* Releases an array function. NULL is ignored. */
void filterjit_array_function_free(filterjit_array_function *function);
/* The function's name; valid while it lives. */
const char *filterjit_array_function_name(const filterjit_array_function *function);
/* How many signatures it has been compiled for. */
intptr_t filterjit_array_function_signature_count(const filterjit_array_function *function);
/* Signature `index` as Numba prints one, "(float64[:], uint8[:, :], int64)" (free with filterjit_string_free);
 * NULL when out of range. */
char *filterjit_array_function_signature(const filterjit_array_function *function, intptr_t index);
/* The optimised LLVM IR of signature `index` (free with filterjit_string_free); NULL when out of range. */
char *filterjit_array_function_ir(const filterjit_array_function *function, intptr_t index);
/* Calls the function with `count` arguments: kinds[k] is FILTERJIT_ARGUMENT_*; for an array, data[k] is its
 * element (0, ...), dtypes[k] its FILTERJIT_* element type, ranks[k] its rank (0...32),
 * shapes[k] and strides[k] its extents and byte strides (any sign; the caller guarantees every element lies in
 * its buffer; the function may write any element). Arrays that overlap are allowed (writes are seen as NumPy
 * would see them, element by element). engine: FILTERJIT_ARRAY_ENGINE_*. On success sets *result (free with
 * filterjit_result_free). A new signature is checked and compiled first (FILTERJIT_ERROR_COMPILE with the
 * rendered diagnostics); a run-time failure (an index out of bounds, with array, index, shape and line) is
 * FILTERJIT_ERROR_KERNEL. Nothing calls back into the caller: a Python caller may release the GIL. */
int filterjit_array_function_call(filterjit_array_function *function, intptr_t count, const int *kinds,
                                  void *const *data, const int *dtypes, const int *ranks,
                                  const intptr_t *const *shapes, const intptr_t *const *strides,
                                  const int64_t *int_values, const double *float_values,
                                  int engine, filterjit_result **result, char **error);
/* The same call with every argument in one buffer of `word_count` int64 words (cheaper for a caller such as
 * Python, for which each buffer has a cost): per argument its FILTERJIT_ARGUMENT_* kind, then for an array its
 * dtype, rank, data pointer, shape[rank] and byte strides[rank]; for an INT or a BOOL its value; for a FLOAT its
 * bits. On success `out` (at least 8 + 32 words) holds [0] the result kind, [1] an INT/BOOL value or a FLOAT's
 * bits, [2] for an ARRAY the argument's index or -1, [3] a new array's dtype, [4] its rank, [5] its data, [6] the
 * filterjit_result that owns it (free it with filterjit_result_free; 0 for every other result, freed here), [8 ...]
 * its shape. */
int filterjit_array_function_call_packed(filterjit_array_function *function, intptr_t count, const int64_t *words,
                                         intptr_t word_count, int engine, int64_t *out, char **error);
/* The offsets of NumPy's PyArrayObject_fields members (char *data, int nd, npy_intp *dimensions, npy_intp *strides,
 * PyArray_Descr *descr, int flags) from an array object's address, the NPY_ARRAY_WRITEABLE bit, and CPython's
 * PyEval_SaveThread and PyEval_RestoreThread (both NULL from C), for filterjit_array_function_call_objects. With
 * them, every such call in the process must be made with the GIL held (ctypes.PyDLL, never ctypes.CDLL): it reads
 * the objects, then releases the GIL around the run. Call once before any such call (the Python package does after
 * checking the offsets on probe arrays). */
void filterjit_set_array_object_layout(intptr_t data, intptr_t nd, intptr_t dimensions, intptr_t strides, intptr_t descr,
                                       intptr_t flags, int writeable, void *save_thread, void *restore_thread);
/* filterjit_array_function_call_packed where an array argument may also be given as 4 words: kind 4, its dtype code,
 * the address of a live NumPy array object and the address of the dtype object the code was read from (rank, data,
 * shape, strides are read from the array; a dtype that is no longer that one and a read-only array are
 * FILTERJIT_ERROR_ARGUMENT). On failure out[7] holds the message (free with filterjit_string_free). */
int filterjit_array_function_call_objects(filterjit_array_function *function, intptr_t count, const int64_t *words,
                                          intptr_t word_count, int engine, int64_t *out);
/* For callers that lay the arguments out and run the machine code themselves (the Python package's C extension,
 * filterjit/_fastcall.c, finds these once and then calls the code directly): the compiled code of one signature.
 * Opaque; freed with filterjit_array_kernel_free. */
typedef struct filterjit_array_kernel filterjit_array_kernel;
/* The code of the signature whose arguments are kinds[k] (FILTERJIT_ARGUMENT_*), for an array with dtypes[k]
 * (FILTERJIT_*) and ranks[k] (0...32); compiled now if it is new (FILTERJIT_ERROR_COMPILE as for a call). `info`
 * (4 words) receives [0] the address of `int f(void **arguments, void *result, void *arena)`, [1] the
 * FILTERJIT_RESULT_* kind it returns, [2] a new array result's FILTERJIT_* dtype (-1 otherwise), [3] its rank.
 * The code lives while the handle (or its array function) does. To run it: arguments[k] points at argument k laid
 * out in int64 words (an array: data, shape[rank], byte strides[rank], with every element inside memory the code
 * may read and write, no negative extent, element count and strides without overflow, data not NULL unless the
 * array is empty; an INT: the value; a FLOAT: the double; a BOOL: one byte 0 or 1 in a zeroed word), `result`
 * is 8 bytes, `arena` two zeroed words. It returns 1 on success: `result` holds the INT/UINT64/BOOL/FLOAT value,
 * or for ARRAY the address of the returned array's descriptor (data, shape, C-order byte strides) which is either
 * some arguments[k] (the function returned that argument) or a new array to take out with
 * filterjit_array_arena_detach. Any other status is a run-time failure: filterjit_array_kernel_error, on the same
 * thread, gives its message. Either way, filterjit_array_arena_release then frees what the run left in `arena`.
 * Nothing calls back into the caller: the code may run with Python's GIL released. */
filterjit_array_kernel *filterjit_array_function_kernel(filterjit_array_function *function, intptr_t count,
                                                        const int *kinds, const int *dtypes, const int *ranks,
                                                        int64_t *info, int *status, char **error);
/* Releases a kernel handle. NULL is ignored. */
void filterjit_array_kernel_free(filterjit_array_kernel *kernel);
/* The message of a failed run (as FILTERJIT_ERROR_KERNEL's of a call: "addarr: index 5 is out of bounds for axis 0
 * with size 5 (array 'y' of shape (5,)) at line 4, column 21"): reason 0, the failure the code recorded on this
 * thread; 1, an ARRAY result whose descriptor is NULL; 2, an ARRAY result that is neither an argument nor in the
 * arena. Free it with filterjit_string_free. */
char *filterjit_array_kernel_error(const filterjit_array_kernel *kernel, int reason);
/* Frees every block a run left in `arena` (two words) and zeroes it. NULL is ignored. */
void filterjit_array_arena_release(void *arena);
/* Takes the new array whose descriptor is `descriptor` out of `arena`; returns its malloc'd block (the descriptor,
 * then the elements; free it with free()), or NULL when `arena` holds no such block. */
void *filterjit_array_arena_detach(void *arena, void *descriptor);
/* The result's kind (FILTERJIT_RESULT_*). */
int filterjit_result_kind(const filterjit_result *result);
/* An INT result (BOOL: 0 or 1; UINT64: its bits as an int64). */
int64_t filterjit_result_int(const filterjit_result *result);
/* A FLOAT result. */
double filterjit_result_float(const filterjit_result *result);
/* An ARRAY result that is one of the arguments: its index; -1 for a new array. */
intptr_t filterjit_result_argument(const filterjit_result *result);
/* A new array's element type (FILTERJIT_*), rank, shape and C-contiguous elements; valid while the result lives. */
int filterjit_result_dtype(const filterjit_result *result);
int filterjit_result_rank(const filterjit_result *result);
const intptr_t *filterjit_result_shape(const filterjit_result *result);
void *filterjit_result_data(const filterjit_result *result);
/* Releases a result (and a new array's memory). NULL is ignored. */
void filterjit_result_free(filterjit_result *result);

#ifdef __cplusplus
}
#endif

#endif /* FILTERJIT_H */
