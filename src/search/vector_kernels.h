#pragma once
// Inner-product kernels for vector search, with the instruction set chosen
// once at run time (AVX-512, AVX2+FMA, or portable C++).
//
// Why not FAISS's: Debian builds libfaiss for baseline x86-64, where one
// 512-d inner product costs ~700 ns; these kernels cost ~30 ns on the same
// core, and vector search is nothing but inner products. FAISS still trains,
// assigns, stores and persists the indexes (vector_index.cpp).
#include <cstddef>
#include <cstdint>

namespace tagsmith::search::kernels {

// Σ a[i]·b[i] over d floats.
float dot(const float* a, const float* b, std::size_t d);

// out[r] = dot(q, rows + r·d) for n contiguous rows of d floats.
void dot_rows(const float* q, const float* rows, std::size_t n, std::size_t d, float* out);

// Scalar-quantised rows (one byte per component): out[r] = bias + Σ w[i]·code[r·d + i].
// An inner product against SQ8 codes reduces to this form (see SqQuery in
// vector_index.cpp), so no row is ever decoded.
float dot_u8(const float* w, const std::uint8_t* code, std::size_t d);
void dot_rows_u8(const float* w, float bias, const std::uint8_t* codes, std::size_t n,
                 std::size_t d, float* out);

// Half-precision rows (IEEE binary16, as FAISS's QT_fp16 stores them):
// out[r] = Σ q[i]·half(code[r·d + i]).
float dot_f16(const float* q, const std::uint16_t* code, std::size_t d);
void dot_rows_f16(const float* q, const std::uint16_t* codes, std::size_t n, std::size_t d,
                  float* out);

// IEEE binary16 -> float (the portable path's conversion; exposed for tests).
float half_to_float(std::uint16_t h);

// Which implementation runs here: "avx512", "avx2" or "portable".
const char* instruction_set();

}  // namespace tagsmith::search::kernels
