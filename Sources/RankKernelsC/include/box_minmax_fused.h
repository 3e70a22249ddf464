// Single-pass 2-D box min/max of 8- and 16-bit integers (and, with the AVX2 kernel, float32) for small boxes (docs/window-strategies.md,
// "min/max, one pass in registers"): per vector of output columns and pair of output rows (one row at a time
// where `filterjit_box_row_pairs()` is 0: not AMD), the column minima of the k + 1 input rows stay in registers
// (the k - 1 rows both windows read combined once), and
// the window along the row takes its neighbours from the previous and next vectors' column minima with
// two-source permutes (VBMI for 8-bit lanes). Nothing is stored but the output, and the vectors lie on the
// output row's 64-byte lines: a 2048x2048 uint8 3x3 min measured 0.104 ms in a C loop on Zen 4 with rows 16
// bytes past a line as NumPy's (0.120-0.122 before the vectors were moved onto the lines), 1.22x a memcpy of
// the image (0.085 ms); the two-pass rows took 2.5x a copy through Python. Without AVX-512 the
// AVX2 kernel (box_minmax_fused_avx2.c) takes the same calls, with `vperm2i128` + `vpalignr` per tap.
// Exact: integer min and max pick the same element whatever the order of the operands; float32 (AVX2 only)
// data holding NaN or -0.0 make the call return 1 (the caller's exact path runs).
#ifndef FILTERJIT_BOX_MINMAX_FUSED_H
#define FILTERJIT_BOX_MINMAX_FUSED_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The most rows and columns a fused box may have.
#define FILTERJIT_FUSED_BOX_MAX_ROWS 8
#define FILTERJIT_FUSED_BOX_MAX_COLUMNS 16

/// Whether this process runs the fused box kernels for elements of `itemSize` bytes (1 or 2): AVX-512
/// F/BW/DQ (and VBMI for 1-byte elements) and FILTERJIT_NO_AVX512 unset, or else the AVX2 ones
/// (`filterjit_fused_box_avx2`).
int filterjit_fused_box_available(ptrdiff_t itemSize);

/// Whether the AVX2 kernels (box_minmax_fused_avx2.c, taken where the AVX-512 ones do not run) may run: the CPU
/// has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts with '0'. They serve windows of up to 8 rows and 8
/// columns with the default centre (start - centre == -(length / 2)); the entries return -1 for others.
int filterjit_fused_box_avx2(void);
/// Turns the AVX2 kernels on (1, where the CPU has AVX2) or off (0), or back to FILTERJIT_NO_AVX2 (-1). For tests.
void filterjit_fused_box_set_avx2(int enabled);
/// The AVX2 kernel behind the entries below (type 0 uint8, 1 int8, 2 uint16, 3 int16, 4 float32; `cval` as a
/// double): their contract, -1 where the switch is off or the box is beyond it; float32 returns 1 (the outputs then
/// partly written and meaningless) when an element it reads, or cval, is NaN or -0.0.
int filterjit_fused_box_avx2_run(int type, const void *const *inputs, void *const *outputs, ptrdiff_t count, ptrdiff_t k,
                                 ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                                 ptrdiff_t extended, double cval, ptrdiff_t n, int maximum);
/// float32 boxes by the AVX2 kernel (no AVX-512 one: those CPUs run the rows-first AVX-512 passes): the contract of
/// the entries below, and 1 when an element read, or cval, is NaN or -0.0 (then the caller's exact path runs).
int filterjit_fused_box_f32(const float *const *inputs, float *const *outputs, ptrdiff_t count, ptrdiff_t k,
                            ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                            ptrdiff_t extended, float cval, ptrdiff_t n, int maximum);

/// How many calls have run a kernel in this process (for tests: proof that a path reached them).
uint64_t filterjit_fused_box_runs(void);
/// How many of those (AVX-512 kernel) laid the first output row's vectors on its 64-byte lines (tests).
uint64_t filterjit_fused_box_shifted_runs(void);

/// Output rows 0 ..< count of a k x length box over rows of n elements: outputs[y][x] is the min (max
/// with `maximum` != 0) of inputs[y ..< y + k] at the extended positions x + start ..< x + start +
/// length. Extended position q outside the row (q < centre or q >= centre + n) reads input column
/// `columns[q]` of every row (-1: `cval`); only those entries are read (the row itself is loaded
/// directly); `columns` must cover every position a window reads (start + n - 1 + length <= extended). `inputs` holds count + k - 1 row pointers of n
/// elements each (the mode's rows: a row of cval outside the image in constant modes). Output rows
/// must not overlap the input rows. Returns -1 without a kernel, for sizes beyond the maxima above, or
/// for a window reaching a vector's width or more to one side of the pixel (s = start - centre <=
/// -lanes or s + length - 1 >= lanes: a footprint with empty columns at one side); the caller then runs
/// its own passes (nothing was written). Else 0.
int filterjit_fused_box_u8(const uint8_t *const *inputs, uint8_t *const *outputs, ptrdiff_t count, ptrdiff_t k,
                           ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                           ptrdiff_t extended, uint8_t cval, ptrdiff_t n, int maximum);
int filterjit_fused_box_i8(const int8_t *const *inputs, int8_t *const *outputs, ptrdiff_t count, ptrdiff_t k,
                           ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                           ptrdiff_t extended, int8_t cval, ptrdiff_t n, int maximum);
int filterjit_fused_box_u16(const uint16_t *const *inputs, uint16_t *const *outputs, ptrdiff_t count, ptrdiff_t k,
                            ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                            ptrdiff_t extended, uint16_t cval, ptrdiff_t n, int maximum);
int filterjit_fused_box_i16(const int16_t *const *inputs, int16_t *const *outputs, ptrdiff_t count, ptrdiff_t k,
                            ptrdiff_t start, ptrdiff_t length, const ptrdiff_t *columns, ptrdiff_t centre,
                            ptrdiff_t extended, int16_t cval, ptrdiff_t n, int maximum);

#ifdef __cplusplus
}
#endif

#endif
