#include "CHalf.h"
#include <string.h>
#include <immintrin.h>

// Portable binary16 -> binary32, exact for every input including subnormals, inf and NaN.
static float half_to_float_scalar(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {
      // Subnormal: normalise the mantissa.
      int shift = 0;
      while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
      mantissa &= 0x3ff;
      bits = sign | ((uint32_t)(127 - 15 - shift + 1) << 23) | (mantissa << 13);
    }
  } else if (exponent == 31) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static uint16_t float_to_half_scalar(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t exponent = (x >> 23) & 0xff;
  uint32_t mantissa = x & 0x7fffff;
  if (exponent == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 : 0));
  int e = (int)exponent - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10) return (uint16_t)sign;
    mantissa |= 0x800000;
    int shift = 14 - e;
    uint32_t half = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1);
    uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = (uint32_t)(e << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
  return (uint16_t)(sign | half);
}

__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const uint8_t *source, float *destination, size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m128i h = _mm_loadu_si128((const __m128i *)(source + 2 * i));
    _mm256_storeu_ps(destination + i, _mm256_cvtph_ps(h));
  }
  for (; i < count; i++) {
    uint16_t h;
    memcpy(&h, source + 2 * i, 2);
    destination[i] = half_to_float_scalar(h);
  }
}

__attribute__((target("avx,f16c")))
static void f32_to_f16_f16c(const float *source, uint8_t *destination, size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(source + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128((__m128i *)(destination + 2 * i), h);
  }
  for (; i < count; i++) {
    uint16_t h = float_to_half_scalar(source[i]);
    memcpy(destination + 2 * i, &h, 2);
  }
}

int chalf_has_f16c(void) {
  return __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
}

void chalf_f16_to_f32(const void *source, float *destination, size_t count) {
  const uint8_t *bytes = (const uint8_t *)source;
  if (chalf_has_f16c()) {
    f16_to_f32_f16c(bytes, destination, count);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    uint16_t h;
    memcpy(&h, bytes + 2 * i, 2);
    destination[i] = half_to_float_scalar(h);
  }
}

void chalf_f32_to_f16(const float *source, void *destination, size_t count) {
  uint8_t *bytes = (uint8_t *)destination;
  if (chalf_has_f16c()) {
    f32_to_f16_f16c(source, bytes, count);
    return;
  }
  for (size_t i = 0; i < count; i++) {
    uint16_t h = float_to_half_scalar(source[i]);
    memcpy(bytes + 2 * i, &h, 2);
  }
}

void chalf_bf16_to_f32(const void *source, float *destination, size_t count) {
  const uint8_t *bytes = (const uint8_t *)source;
  // A plain loop over memcpy'd 16-bit words: the compiler vectorises the shift.
  for (size_t i = 0; i < count; i++) {
    uint16_t b;
    memcpy(&b, bytes + 2 * i, 2);
    uint32_t bits = (uint32_t)b << 16;
    memcpy(destination + i, &bits, 4);
  }
}
