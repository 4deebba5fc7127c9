// Byte-level BPE (GPT-2, Llama 3, Qwen2, tiktoken): the text is cut into pieces by a regex
// pre-tokenizer (model/pretokenizer.h); each piece's bytes are merged pairwise, lowest merge rank
// first (leftmost on ties), into tokens. Read from a GGUF `gpt2` vocabulary (tokens in GPT-2's
// byte-to-unicode spelling, "Ġthe", with its merges), a HuggingFace tokenizer.json, or a tiktoken
// ranks file (base64 bytes and rank per line; a merge's rank is the rank of the token it makes).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/pretokenizer.h"
#include "model/tokenizer.h"

namespace swebox::model {

class BpeTokenizer : public Tokenizer {
 public:
  struct Merge {
    int32_t left;
    int32_t right;
    int32_t rank;
    int32_t result;
  };
  struct Options {
    PreTokenizer pre_tokenizer = PreTokenizer::llama3;
    // A piece that is a whole token is that token, unmerged (Llama 3's ignore_merges; tiktoken).
    bool ignore_merges = true;
  };
  // tokens[i].bytes, .text and .type must be filled; every single byte must be a token.
  BpeTokenizer(std::vector<Token> tokens, const std::vector<Merge>& merges, int32_t bos, int32_t eos,
               Options options, std::string source);

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const override;
  std::string kind() const override { return "bpe"; }
  PreTokenizer pre_tokenizer() const { return options_.pre_tokenizer; }

 private:
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

  Options options_;
  int32_t byte_ids_[256];
  std::unordered_map<std::string, int32_t> by_bytes_;       // ordinary tokens by what they stand for
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left, right) -> (rank, result)
};

// GPT-2's byte-to-unicode spelling: the text of a token -> its bytes, or nullopt when the text uses a
// character outside the 256 that spelling has (an added token written as itself).
std::optional<std::string> gpt2_spelling_to_bytes(std::string_view text);
std::string bytes_to_gpt2_spelling(std::string_view bytes);

// Builds the tokenizer from GPT-2-spelled token texts and "LEFT RIGHT" merges (GGUF, tokenizer.json);
// `name` names the file in errors.
std::unique_ptr<BpeTokenizer> make_gpt2_bpe(const std::vector<std::string>& texts, const std::vector<TokenType>& types,
                                            const std::vector<std::string>& merges, int32_t bos, int32_t eos,
                                            BpeTokenizer::Options options, const std::string& name,
                                            const std::string& source);

// A HuggingFace tokenizer.json (model.type BPE, byte-level), and a tiktoken ranks file. A ranks file
// of exactly 128000 tokens is Llama 3's (and CWM's): its 256 special tokens follow it, named as
// Llama 3.1 names them; any other size has no special tokens.
std::unique_ptr<BpeTokenizer> parse_tokenizer_json(std::string_view bytes, const std::string& name);
std::unique_ptr<BpeTokenizer> parse_tiktoken_ranks(std::string_view bytes, const std::string& name);

}  // namespace swebox::model
