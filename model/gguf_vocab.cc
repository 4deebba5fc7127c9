#include "model/gguf_vocab.h"

#include <cmath>

#include "model/bpe.h"
#include "model/sentencepiece.h"

namespace swebox::model {

namespace {

std::unique_ptr<Tokenizer> read_vocab(const Gguf& g) {
  const std::string& name = g.name();
  auto fail = [&](const std::string& why) { return TokenizerError(name + ": " + why); };
  if (!g.find("tokenizer.ggml.model")) throw fail("no tokenizer.ggml.model: this GGUF carries no vocabulary");
  std::string model(g.require("tokenizer.ggml.model").as_string("tokenizer.ggml.model"));
  const auto& token_views = g.require("tokenizer.ggml.tokens").as_strings("tokenizer.ggml.tokens");
  const size_t count = token_views.size();
  if (count == 0 || count > (1u << 24)) throw fail("tokenizer.ggml.tokens has " + std::to_string(count) + " tokens");

  std::vector<TokenType> types(count, TokenType::normal);
  if (const GgufValue* v = g.find("tokenizer.ggml.token_type")) {
    std::vector<int64_t> raw = v->as_ints("tokenizer.ggml.token_type");
    if (raw.size() != count)
      throw fail("tokenizer.ggml.token_type has " + std::to_string(raw.size()) + " entries for " +
                 std::to_string(count) + " tokens");
    for (size_t i = 0; i < count; ++i)
      types[i] = raw[i] >= 0 && raw[i] <= 6 ? static_cast<TokenType>(raw[i]) : TokenType::undefined;
  }
  auto token_id = [&](const char* key, int64_t fallback) -> int32_t {
    const GgufValue* v = g.find(key);
    if (!v) return static_cast<int32_t>(fallback);
    int64_t id = v->as_int(key);
    if (id < 0 || static_cast<size_t>(id) >= count)
      throw fail(std::string(key) + " is " + std::to_string(id) + ", outside the " + std::to_string(count) + " tokens");
    return static_cast<int32_t>(id);
  };
  auto flag = [&](const char* key, bool fallback) {
    const GgufValue* v = g.find(key);
    return v ? v->as_uint(key) != 0 : fallback;
  };

  if (model == "llama") {
    std::vector<double> scores(count, 0.0);
    if (const GgufValue* v = g.find("tokenizer.ggml.scores")) {
      scores = v->as_floats("tokenizer.ggml.scores");
      if (scores.size() != count)
        throw fail("tokenizer.ggml.scores has " + std::to_string(scores.size()) + " entries for " +
                   std::to_string(count) + " tokens");
    }
    std::vector<Token> tokens(count);
    for (size_t i = 0; i < count; ++i) {
      if (!std::isfinite(scores[i])) throw fail("tokenizer.ggml.scores[" + std::to_string(i) + "] is not finite");
      tokens[i] = {std::string(token_views[i]), "", static_cast<float>(scores[i]), types[i]};
    }
    SentencePieceTokenizer::Options options;
    options.spaces_as_lower_block = true;
    options.add_space_prefix = flag("tokenizer.ggml.add_space_prefix", true);
    return std::make_unique<SentencePieceTokenizer>(
        std::move(tokens), token_id("tokenizer.ggml.bos_token_id", 1), token_id("tokenizer.ggml.eos_token_id", 2),
        token_id("tokenizer.ggml.unknown_token_id", 0), options, "gguf llama");
  }
  if (model == "gpt2") {
    std::string pre(g.get_string("tokenizer.ggml.pre", "default"));
    std::optional<PreTokenizer> kind = pre_tokenizer_named(pre);
    if (!kind)
      throw fail("tokenizer.ggml.pre \"" + pre + "\" is not a pre-tokenizer swebox knows (gpt-2/default, llama-bpe, qwen2)");
    const auto& merge_views = g.require("tokenizer.ggml.merges").as_strings("tokenizer.ggml.merges");
    std::vector<std::string> texts(token_views.begin(), token_views.end());
    std::vector<std::string> merges(merge_views.begin(), merge_views.end());
    BpeTokenizer::Options options;
    options.pre_tokenizer = *kind;
    options.ignore_merges = *kind == PreTokenizer::llama3;  // as llama.cpp sets it for llama-bpe
    return make_gpt2_bpe(texts, types, merges, token_id("tokenizer.ggml.bos_token_id", -1),
                         token_id("tokenizer.ggml.eos_token_id", -1), options, name, "gguf gpt2");
  }
  throw fail("tokenizer.ggml.model \"" + model + "\" is not one swebox reads (llama, gpt2)");
}

}  // namespace

std::unique_ptr<Tokenizer> tokenizer_from_gguf(const Gguf& gguf) {
  try {
    return read_vocab(gguf);
  } catch (const GgufError& e) {
    throw TokenizerError(gguf.name() + ": " + e.what());
  }
}

}  // namespace swebox::model
