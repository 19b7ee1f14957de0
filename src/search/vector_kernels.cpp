#include "vector_kernels.h"

// GCC 12 reports its own AVX-512 intrinsics (_mm512_reduce_add_ps,
// _mm512_cvtepu8_epi32) as reading uninitialised values: a known false
// positive in the headers, not in this file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace tagsmith::search::kernels {

namespace {

// --- portable ---------------------------------------------------------------
// Eight partial sums let the compiler keep several lanes busy without
// reassociating a single float sum (which it may not do without -ffast-math).

float dot_portable(const float* a, const float* b, std::size_t d) {
  float s[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= d; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += a[i + j] * b[i + j];
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < d; ++i) total += a[i] * b[i];
  return total;
}

float dot_u8_portable(const float* w, const std::uint8_t* c, std::size_t d) {
  float s[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= d; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += w[i + j] * static_cast<float>(c[i + j]);
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < d; ++i) total += w[i] * static_cast<float>(c[i]);
  return total;
}

}  // namespace

// IEEE binary16 -> float, for CPUs without F16C (rare on x86-64 since 2012).
float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while (!(mant & 0x400u)) mant <<= 1, --exp;
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  __builtin_memcpy(&f, &bits, sizeof f);
  return f;
}

namespace {

float dot_f16_portable(const float* q, const std::uint16_t* c, std::size_t d) {
  float s[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= d; i += 8)
    for (int j = 0; j < 8; ++j) s[j] += q[i + j] * half_to_float(c[i + j]);
  float total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  for (; i < d; ++i) total += q[i] * half_to_float(c[i]);
  return total;
}

// --- AVX2 + FMA --------------------------------------------------------------

__attribute__((target("avx2,fma"))) float hsum256(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float* a, const float* b, std::size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  float total = hsum256(_mm256_add_ps(s0, s1));
  for (; i < d; ++i) total += a[i] * b[i];
  return total;
}

__attribute__((target("avx2,fma"))) float dot_u8_avx2(const float* w, const std::uint8_t* c,
                                                      std::size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i));
    const __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
    const __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(bytes, 8)));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), lo, s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), hi, s1);
  }
  float total = hsum256(_mm256_add_ps(s0, s1));
  for (; i < d; ++i) total += w[i] * static_cast<float>(c[i]);
  return total;
}

__attribute__((target("avx2,fma,f16c"))) float dot_f16_avx2(const float* q, const std::uint16_t* c,
                                                            std::size_t d) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m256 lo = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i)));
    const __m256 hi = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i + 8)));
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), lo, s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), hi, s1);
  }
  float total = hsum256(_mm256_add_ps(s0, s1));
  for (; i < d; ++i) total += q[i] * half_to_float(c[i]);
  return total;
}

// --- AVX-512 -------------------------------------------------------------------

__attribute__((target("avx512f"))) float dot_avx512(const float* a, const float* b, std::size_t d) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i + 16 <= d; i += 16)
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  float total = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  for (; i < d; ++i) total += a[i] * b[i];
  return total;
}

__attribute__((target("avx512f"))) float dot_u8_avx512(const float* w, const std::uint8_t* c,
                                                       std::size_t d) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    const __m512 lo = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i))));
    const __m512 hi = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i + 16))));
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), lo, s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i + 16), hi, s1);
  }
  for (; i + 16 <= d; i += 16) {
    const __m512 v = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(c + i))));
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(w + i), v, s0);
  }
  float total = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  for (; i < d; ++i) total += w[i] * static_cast<float>(c[i]);
  return total;
}

__attribute__((target("avx512f"))) float dot_f16_avx512(const float* q, const std::uint16_t* c,
                                                        std::size_t d) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  std::size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    const __m512 lo = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i)));
    const __m512 hi =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i + 16)));
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), lo, s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), hi, s1);
  }
  for (; i + 16 <= d; i += 16)
    s0 = _mm512_fmadd_ps(
        _mm512_loadu_ps(q + i),
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i))), s0);
  float total = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
  for (; i < d; ++i) total += q[i] * half_to_float(c[i]);
  return total;
}

// --- dispatch ------------------------------------------------------------------

struct Kernels {
  float (*dot)(const float*, const float*, std::size_t);
  float (*dot_u8)(const float*, const std::uint8_t*, std::size_t);
  float (*dot_f16)(const float*, const std::uint16_t*, std::size_t);
  const char* name;
};

Kernels pick() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return {dot_avx512, dot_u8_avx512, dot_f16_avx512, "avx512"};
  // Every CPU with AVX2 and FMA (Haswell, Zen) also has F16C.
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {dot_avx2, dot_u8_avx2, dot_f16_avx2, "avx2"};
  return {dot_portable, dot_u8_portable, dot_f16_portable, "portable"};
}

const Kernels& active() {
  static const Kernels k = pick();
  return k;
}

}  // namespace

float dot(const float* a, const float* b, std::size_t d) {
  return active().dot(a, b, d);
}

void dot_rows(const float* q, const float* rows, std::size_t n, std::size_t d, float* out) {
  const auto f = active().dot;
  for (std::size_t r = 0; r < n; ++r) out[r] = f(q, rows + r * d, d);
}

float dot_u8(const float* w, const std::uint8_t* code, std::size_t d) {
  return active().dot_u8(w, code, d);
}

void dot_rows_u8(const float* w, float bias, const std::uint8_t* codes, std::size_t n,
                 std::size_t d, float* out) {
  const auto f = active().dot_u8;
  for (std::size_t r = 0; r < n; ++r) out[r] = bias + f(w, codes + r * d, d);
}

float dot_f16(const float* q, const std::uint16_t* code, std::size_t d) {
  return active().dot_f16(q, code, d);
}

void dot_rows_f16(const float* q, const std::uint16_t* codes, std::size_t n, std::size_t d,
                  float* out) {
  const auto f = active().dot_f16;
  for (std::size_t r = 0; r < n; ++r) out[r] = f(q, codes + r * d, d);
}

const char* instruction_set() {
  return active().name;
}

}  // namespace tagsmith::search::kernels
