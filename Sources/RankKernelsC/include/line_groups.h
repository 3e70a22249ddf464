// The line driver's groups of eight neighbouring lines (NDImage/LineDriver.swift, `gather` / `scatter`): lines
// along an axis other than the last of a C-ordered float32 or float64 array, whose elements at one position lie
// side by side in a row, moved between the rows and eight contiguous line buffers of doubles by 4x4 transposes in
// AVX2 registers (element by element, half of a strided float line pass at 256x256 went into the two moves).
#ifndef FILTERJIT_LINE_GROUPS_H
#define FILTERJIT_LINE_GROUPS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// destination[b * pitch + j] = line b's element j, for b in 0..<8 and j in 0..<count, where line b's element j
/// is the float64 (`filterjit_line_gather8_f64`) or float32 (`_f32`, widened exactly) at byte offset
/// j * line_stride + b * itemsize from `source` (the eight lines' elements side by side). Returns 1 when it ran,
/// 0 (touching nothing) where the AVX2 kernels do not run (`filterjit_line_groups_avx2`).
int filterjit_line_gather8_f64(const void *source, ptrdiff_t line_stride, ptrdiff_t count, double *destination,
                               ptrdiff_t pitch);
int filterjit_line_gather8_f32(const void *source, ptrdiff_t line_stride, ptrdiff_t count, double *destination,
                               ptrdiff_t pitch);

/// The inverse: line b's element j (byte offset j * line_stride + b * itemsize from `destination`) = values[b *
/// pitch + j], stored as float64 or (`_f32`) narrowed to float32 with round-to-nearest, as a C cast does. Returns 1
/// when it ran, 0 (storing nothing) otherwise.
int filterjit_line_scatter8_f64(const double *values, ptrdiff_t pitch, ptrdiff_t count, void *destination,
                                ptrdiff_t line_stride);
int filterjit_line_scatter8_f32(const double *values, ptrdiff_t pitch, ptrdiff_t count, void *destination,
                                ptrdiff_t line_stride);

/// Whether the kernels above run: the CPU has AVX2 and FILTERJIT_NO_AVX2 is unset, empty or starts with '0'.
int filterjit_line_groups_avx2(void);
/// Turns them on (1, where the CPU has AVX2) or off (0), or back to the environment (-1); for tests.
void filterjit_line_groups_set_avx2(int enabled);

#ifdef __cplusplus
}
#endif

#endif
