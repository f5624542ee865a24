#ifndef CHALF_H
#define CHALF_H
#include <stddef.h>
#include <stdint.h>

/// Widens `count` IEEE binary16 values to binary32. Uses F16C when the CPU has it.
/// `source` need not be aligned.
void chalf_f16_to_f32(const void *source, float *destination, size_t count);

/// Widens `count` bfloat16 values to binary32 (a 16-bit shift). `source` need not be aligned.
void chalf_bf16_to_f32(const void *source, float *destination, size_t count);

/// Narrows `count` binary32 values to IEEE binary16, rounding to nearest even.
void chalf_f32_to_f16(const float *source, void *destination, size_t count);

/// 1 when the F16C path is in use, 0 for the portable fallback.
int chalf_has_f16c(void);

#endif
