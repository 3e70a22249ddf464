// AVX-512 (VBMI) min/max of 8-bit 2-D boxes with more than 8 rows or columns (docs/window-strategies.md,
// "min/max", long boxes), chosen at run time by the CPU: AVX-512 F, BW, DQ (`filterjit_box_kernels_avx512`,
// FILTERJIT_NO_AVX512 unset) and VBMI. Rows first, each input row reduced along the row once, in registers;
// then van Herk / Gil-Werman down the columns over a ring of k rows. Or, where the call allows it (the
// row's ends read within its first 64 and last 128 columns, centred-like windows, no `stream`), columns
// first: van Herk down the input rows themselves, then each output row's column minima along the row in
// registers (box_minmax_long.c, `fj_cf`).
#ifndef FILTERJIT_BOX_MINMAX_LONG_H
#define FILTERJIT_BOX_MINMAX_LONG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this process runs the 8-bit long-box kernels (AVX-512 F/BW/DQ and VBMI, FILTERJIT_NO_AVX512 unset; or
/// else the AVX2 one, `filterjit_box_long_avx2`).
int filterjit_box_long_available(void);
/// Whether the AVX2 kernel (box_minmax_long_avx2.c, columns first, taken where the AVX-512 one does not run) may
/// run: the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts with '0'. It takes windows of at most 63
/// columns starting fewer than 32 positions left or right of the pixel (-32 < start - centre < 32); the entries
/// return -1 for others, and ignore `stream`.
int filterjit_box_long_avx2(void);
/// Turns the AVX2 kernel on (1, where the CPU has AVX2) or off (0), or back to FILTERJIT_NO_AVX2 (-1). For tests.
void filterjit_box_long_set_avx2(int enabled);
/// The AVX2 kernel behind `filterjit_box_long_u8` / `_i8` (op 0 unsigned min, 1 unsigned max, 2 signed min,
/// 3 signed max): their contract, -1 where the switch is off or the shape is beyond it.
int filterjit_box_long_avx2_run(int op, const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count,
                                ptrdiff_t n, const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre,
                                ptrdiff_t start, ptrdiff_t length, uint8_t cval);

/// How many calls have run the kernel in this process (for tests: proof that a path reached it).
uint64_t filterjit_box_long_runs(void);

/// Whether the 8-bit kernel may take its columns-first path (1; -1 the default: unless
/// FILTERJIT_BOX_COLUMNS_FIRST=0 is in the environment) or always runs rows first (0); for tests, which
/// compare both with the literal kernel.
void filterjit_box_long_set_columns_first(int enabled);

/// How many calls of the 8-bit kernel ran columns first (tests).
uint64_t filterjit_box_long_columns_first_runs(void);

/// How many of those ran on a grid shifted onto the output rows' 64-byte lines (tests: proof that a path reached it).
uint64_t filterjit_box_long_shifted_runs(void);

/// `count` output rows of a box of `k` rows and `length` columns: outs[t][x] = op over rows
/// rows[t ..< t + k] (NULL: a row outside the image, every element `cval`) and, along each of them,
/// extended positions x + start ..< x + start + length, where extended position j reads column
/// columns[j] of the row (-1: `cval`) for j < extendedLength, and positions centre ..< centre + n are
/// the row itself (columns[j] == j - centre). `rows` holds count + k - 1 pointers, each row and each
/// output row n elements. `maximum` != 0 takes the maximum, else the minimum. Returns -1 (nothing
/// written) without a kernel, for a shape it does not take (length > 64, k > 255, start or centre
/// negative, or positions x + start + length - 1 >= extendedLength for some x < n) or when its scratch
/// cannot be allocated, else 0. Scratch per call: k + 1 rows (columns first: k) of n bytes rounded up to
/// 64 and padded so that rows lie 320 bytes past a multiple of 4096 apart (about 4.4 KiB each at n =
/// 2048), and a buffer of the extended row. `stream` != 0: where every output row starts at the same offset from a
/// 64-byte boundary, the whole 64-byte lines of the output are written with non-temporal stores (for big
/// outputs, which otherwise cost a read of every output line; the caller decides what is big).
int filterjit_box_long_u8(const uint8_t *const *rows, ptrdiff_t k, uint8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, uint8_t cval, int maximum, int stream);
int filterjit_box_long_i8(const int8_t *const *rows, ptrdiff_t k, int8_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                          const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                          ptrdiff_t length, int8_t cval, int maximum, int stream);

/// Wide lanes (float32, float64, uint16, int16; AVX-512 F/BW/DQ/VL, FILTERJIT_NO_AVX512 unset): the same scheme
/// for 2-D boxes of up to 255 rows and column spans of at most 8 doubling levels: 80 columns for float32, 48
/// for float64, 128 for 16-bit data.
/// Same arguments as `filterjit_box_long_u8`; returns -1 (nothing written) without the kernel or for a
/// shape it does not take, 1 when a row it reads holds NaN or -0.0 (float types; the outputs are then
/// partly written and meaningless), else 0.
int filterjit_box_long_wide_available(void);
uint64_t filterjit_box_long_wide_runs(void);
/// Without the wide-lane AVX-512 kernel, these four entries run an AVX2 one (box_minmax_long_wide_avx2.c: columns
/// first, up to 255 rows and 1024 columns) where the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts
/// with '0': whether it may run, its switch for tests (1 on where the CPU has AVX2, 0 off, -1 back to the
/// environment) and how many calls it has run in this process.
int filterjit_box_long_wide_avx2(void);
void filterjit_box_long_set_wide_avx2(int enabled);
uint64_t filterjit_box_long_wide_avx2_runs(void);
int filterjit_box_long_f32(const float *const *rows, ptrdiff_t k, float *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, float cval, int maximum);
int filterjit_box_long_f64(const double *const *rows, ptrdiff_t k, double *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, double cval, int maximum);
int filterjit_box_long_u16(const uint16_t *const *rows, ptrdiff_t k, uint16_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, uint16_t cval, int maximum);
int filterjit_box_long_i16(const int16_t *const *rows, ptrdiff_t k, int16_t *const *outs, ptrdiff_t count, ptrdiff_t n,
                           const ptrdiff_t *columns, ptrdiff_t extendedLength, ptrdiff_t centre, ptrdiff_t start,
                           ptrdiff_t length, int16_t cval, int maximum);

#ifdef __cplusplus
}
#endif

#endif
