#pragma once
// The arithmetic an encoder runs in, chosen per model at load.
//
//  fp32  float everywhere (the default; the reference the others are held to).
//  bf16  weights converted once at load to bfloat16 and the heavy operators
//        (matrix products, convolutions) run in bfloat16 through oneDNN on
//        CPUs with AVX-512 BF16 / AMX; layer norms, softmax and residual sums
//        stay float, and embeddings and logits come back as float.
//  int8  linear layers quantized per output channel at load and run with
//        FBGEMM's dynamic int8 kernels (activations quantized per call);
//        everything else float. CLIP only: a TFLite classifier given int8
//        runs in bf16 (its convolutions have no dynamic int8 path here).
//
// Torch-free on purpose (see clip_model.h).
#include <string>
#include <string_view>

namespace tagsmith::vision {

enum class Precision { fp32, bf16, int8 };

// "fp32", "bf16" or "int8" (case-insensitive; "float32", "bfloat16" accepted).
// Throws InputError naming the value and the accepted ones.
Precision parse_precision(std::string_view text);
std::string_view precision_name(Precision p);

}  // namespace tagsmith::vision
