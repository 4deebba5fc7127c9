// Rows of floats to ggml's tensor layouts (the inverse of kernels' dequantize_row): what the
// synthetic test models and conversions write. Simple round-to-nearest quantizers: the formats
// are ggml's, the choice of scales is not llama.cpp's search (its files quantize a little better).
#pragma once

#include <cstddef>
#include <string>

#include "model/gguf.h"

namespace swebox::model {

// n must be a multiple of the type's block (32 or 256); throws std::invalid_argument otherwise or
// for a type it cannot write (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K are written).
std::string quantize_row(TensorType type, const float* x, size_t n);

}  // namespace swebox::model
