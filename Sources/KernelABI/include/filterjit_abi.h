/* filterjit_abi.h: the one place where FilterJIT's internal binary interfaces are spelled.
 *
 * Both sides include it: the drivers (NDImage, FilterJIT) that call compiled code, and the code
 * generator (FilterCodegen), which builds the same struct layouts in LLVM IR from the offsets
 * Swift reads off these declarations. The public C API (include/filterjit.h) and the Python
 * package (python/filterjit/_lib.py) repeat the element-type and mode codes for their callers; a
 * test (KernelABITests) checks that they equal the codes here.
 */
#ifndef FILTERJIT_ABI_H
#define FILTERJIT_ABI_H

#include <stdint.h>

/* Element types of arrays (native byte order); NumPy's names. */
typedef enum {
    FJ_ELEMENT_BOOL = 0, FJ_ELEMENT_INT8 = 1, FJ_ELEMENT_INT16 = 2, FJ_ELEMENT_INT32 = 3, FJ_ELEMENT_INT64 = 4,
    FJ_ELEMENT_UINT8 = 5, FJ_ELEMENT_UINT16 = 6, FJ_ELEMENT_UINT32 = 7, FJ_ELEMENT_UINT64 = 8,
    FJ_ELEMENT_FLOAT32 = 9, FJ_ELEMENT_FLOAT64 = 10
} fj_element_code;

/* Boundary modes (scipy.ndimage names). */
typedef enum {
    FJ_MODE_REFLECT = 0, FJ_MODE_CONSTANT = 1, FJ_MODE_NEAREST = 2, FJ_MODE_MIRROR = 3, FJ_MODE_WRAP = 4,
    FJ_MODE_GRID_MIRROR = 5, FJ_MODE_GRID_CONSTANT = 6, FJ_MODE_GRID_WRAP = 7
} fj_mode_code;

/* SciPy's LowLevelCallable signatures (the callback ABI of each kernel kind). */
typedef int (*fj_filter_callback)(double *buffer, intptr_t filter_size, double *return_value, void *user_data);
typedef int (*fj_line_filter_callback)(double *input_line, intptr_t input_length, double *output_line,
                                       intptr_t output_length, void *user_data);
typedef int (*fj_transform_callback)(intptr_t *output_coordinates, double *input_coordinates, int output_rank,
                                     int input_rank, void *user_data);

/* A row kernel computes pixels in groups of this many: callers pass count >= FJ_ROW_GROUP (a shorter
 * row is padded by the caller, see NDImage's RowKernelCaller). */
enum { FJ_ROW_GROUP = 64 };

/* One call of a fused @filter row kernel: `count` output pixels of one row.
 * Pixel i's window is { taps[t][i] : t < tap count } (elements of the input type, unit stride): the
 * driver points each tap into a row extended through the boundary mode, so the kernel knows nothing
 * of modes, cval, strides or the image's shape. Results go to output[i] (the output type, unit stride). */
typedef struct {
    const void *const *taps;  /* per tap, the element pixel 0 reads */
    void *output;             /* the row's first output element */
    int64_t count;            /* pixels in the row, at least FJ_ROW_GROUP */
    const double *parameters; /* run-time parameters, in declaration order */
    double *scratch;          /* per-thread buffer of (tap count) doubles, for windows too long for the stack */
} fj_row_arguments;

/* Returns -1 when every pixel succeeded, else the index of the first failing pixel (the failure's
 * reason is in the thread's runtime failure record). */
typedef int64_t (*fj_row_kernel)(const fj_row_arguments *arguments);

/* One call of a fused @transform row kernel: the input coordinates of `count` consecutive output
 * points of one output row (the kernel's coordinate code inlined into one pixel loop).
 * `output_index` is the driver's index of the current point (output rank entries): the kernel sets its
 * last entry to first + i before computing point i (the leading entries are the row's; a kernel that
 * writes `out_coords` changes them for later points, as with the callback). Point i's input coordinates
 * go to coordinates[i * input rank ...], zeroed first, as the callback wrapper zeroes them. */
typedef struct {
    int64_t *output_index;    /* the current output point's index, output rank entries */
    int64_t first;            /* the last-axis index of point 0 */
    int64_t count;            /* points to map */
    double *coordinates;      /* count * input rank doubles */
    const double *parameters; /* run-time parameters, in declaration order */
} fj_transform_row_arguments;

/* Returns -1 when every point was mapped, else the index i of the first failing point (the reason is
 * in the thread's runtime failure record). */
typedef int64_t (*fj_transform_row_kernel)(const fj_transform_row_arguments *arguments);

#endif
