// The regex pre-tokenizers of byte-level BPE vocabularies, written out by hand (as llama.cpp does)
// over Unicode's letter and number classes (model/unicode_tables.inc) and its White_Space property:
//   gpt2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//           \s*[\r\n]+|\s+(?!\S)|\s+          (also tiktoken's cl100k_base, which matches the same pieces)
//   qwen2   llama3's with \p{N} for \p{N}{1,3}
// Bytes that are not valid UTF-8 are each a character of no class (as U+FFFD would be).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace swebox::model {

enum class PreTokenizer { gpt2, llama3, qwen2 };

// "gpt2", "llama3", "qwen2"; and from GGUF's tokenizer.ggml.pre names ("gpt-2", "llama-bpe", "qwen2",
// "default" = gpt2...). nullopt for any other name.
std::optional<PreTokenizer> pre_tokenizer_named(std::string_view name);
std::string_view pre_tokenizer_name(PreTokenizer kind);

// The pieces of `text`, in order; together they are exactly `text`.
std::vector<std::string_view> pre_tokenize(std::string_view text, PreTokenizer kind);

bool is_unicode_letter(char32_t c);
bool is_unicode_number(char32_t c);
bool is_unicode_white_space(char32_t c);

}  // namespace swebox::model
