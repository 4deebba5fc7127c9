// The tokenizer a GGUF file describes in its tokenizer.ggml.* metadata: `llama` (SentencePiece with
// byte fallback) or `gpt2` (byte-level BPE with merges and the pre-tokenizer tokenizer.ggml.pre
// names). Every array is checked (lengths agree, ids in range); a problem is a TokenizerError naming
// the file and the key.
#pragma once

#include <memory>

#include "model/gguf.h"
#include "model/tokenizer.h"

namespace swebox::model {

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const Gguf& gguf);

}  // namespace swebox::model
