// SentencePiece-style tokenization as llama2.c and llama.cpp's `llama` vocabularies do it: the text
// (with a leading space added, the "dummy prefix") is split into UTF-8 characters, then adjacent
// pieces are merged while their concatenation is a token, highest score first (leftmost on ties); a
// character that is no token becomes its bytes' <0xNN> tokens (byte fallback).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/tokenizer.h"

namespace swebox::model {

class SentencePieceTokenizer : public Tokenizer {
 public:
  struct Options {
    // The vocabulary spells a space as "▁" (U+2581), as SentencePiece models and GGUF do; llama2.c's
    // exported tokenizer.bin spells it ' '.
    bool spaces_as_lower_block = true;
    bool add_space_prefix = true;
  };

  // tokens[i].text, .score and .type must be filled; .bytes is derived here.
  SentencePieceTokenizer(std::vector<Token> tokens, int32_t bos, int32_t eos, int32_t unknown,
                         Options options, std::string source);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const override;
  std::string kind() const override { return "sentencepiece"; }

 private:
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;

  Options options_;
  int32_t unknown_ = -1;
  int32_t byte_ids_[256];  // <0xNN> per byte, or -1
};

// A llama2.c tokenizer.bin (int32 max_token_length, then per token: float32 score, int32 length, the
// bytes) read from `bytes`; `name` names the file in errors. BOS is token 1 and EOS token 2, as
// llama2.c fixes them.
std::unique_ptr<SentencePieceTokenizer> parse_llama2c_tokenizer(std::string_view bytes, const std::string& name);
std::unique_ptr<SentencePieceTokenizer> read_llama2c_tokenizer(const std::string& path);

}  // namespace swebox::model
