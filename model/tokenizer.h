// One interface over every tokenizer a model file or a tokenizer file can describe: SentencePiece
// style (llama2.c tokenizer.bin, GGUF `llama` vocabularies; model/sentencepiece.h) and byte-level BPE
// (GGUF `gpt2` vocabularies, HuggingFace tokenizer.json, tiktoken ranks; model/bpe.h).
//
// Every reader treats its file as hostile: a truncated or corrupt file is a TokenizerError naming the
// file and the problem, never a crash.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace swebox::model {

class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// GGUF's token types (tokenizer.ggml.token_type), which the other formats map onto.
enum class TokenType : int32_t {
  undefined = 0,
  normal = 1,
  unknown = 2,
  control = 3,       // <s>, </s>, <|eot_id|>: never produced from text unless parse_special
  user_defined = 4,  // added tokens matched literally in text before the model's own splitting
  unused = 5,
  byte = 6,          // <0xNN>
};

struct EncodeOptions {
  bool add_bos = false;
  bool add_eos = false;
  // Text spelling a control or user-defined token ("<|eot_id|>") becomes that token; otherwise it is
  // tokenized as ordinary text. Counting a context that holds a chat template's markers wants true.
  bool parse_special = false;
};

struct Token {
  std::string text;   // as the file spells it (SentencePiece's "▁the", GPT-2's "Ġthe", "<0x0A>")
  std::string bytes;  // what it stands for in the output ("\x20the", "\n")
  float score = 0;    // SentencePiece merge priority (higher merges first); BPE: unused
  TokenType type = TokenType::normal;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<int32_t> encode(std::string_view text, const EncodeOptions& options = {}) const = 0;

  // The bytes token `id` stands for (a byte token is its byte, a control token its text); throws
  // TokenizerError for an id outside the vocabulary.
  const std::string& piece(int32_t id) const;
  // The text of a whole sequence: control tokens (BOS, EOS, ...) are left out, and for tokenizers that
  // add a leading space (SentencePiece's dummy prefix) the first piece loses it, so that
  // decode(encode(t)) == t.
  std::string decode(std::span<const int32_t> ids) const;
  // The text of `id` when it follows `previous` in a stream (as llama2.c prints): after BOS the
  // dummy-prefix space is dropped; a control token is empty.
  std::string decode_next(int32_t previous, int32_t id) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  const Token& token(int32_t id) const;
  std::optional<int32_t> find(std::string_view text) const;  // by the file's spelling
  int32_t bos_id() const { return bos_; }  // -1 when the vocabulary has none
  int32_t eos_id() const { return eos_; }
  bool is_special(int32_t id) const;        // control or user-defined
  std::vector<int32_t> special_ids() const;

  // "sentencepiece" or "bpe", and what the vocabulary was read from ("llama2.c tokenizer.bin",
  // "gguf llama", "gguf gpt2", "tokenizer.json", "tiktoken ranks").
  virtual std::string kind() const = 0;
  const std::string& source() const { return source_; }

 protected:
  // Fills the lookup tables once tokens_ is complete.
  void index_tokens();
  // Splits text at spellings of control and user-defined tokens (longest first): calls on_text for
  // each stretch of ordinary text and on_special for each special token found.
  template <class OnText, class OnSpecial>
  void split_special(std::string_view text, bool parse_special, OnText on_text, OnSpecial on_special) const;

  std::vector<Token> tokens_;
  std::unordered_map<std::string, int32_t> by_text_;
  std::vector<int32_t> specials_longest_first_;
  bool special_first_byte_[256] = {};  // a special token's spelling can start with this byte
  int32_t bos_ = -1;
  int32_t eos_ = -1;
  bool add_space_prefix_ = false;
  std::string source_;
};

// Reads any supported tokenizer file, recognised by its content (not its name): a GGUF file (its
// vocabulary), a HuggingFace tokenizer.json, a tiktoken ranks file, a llama2.c tokenizer.bin. Anything
// else is a TokenizerError saying what was expected.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path);

template <class OnText, class OnSpecial>
void Tokenizer::split_special(std::string_view text, bool parse_special, OnText on_text,
                              OnSpecial on_special) const {
  if (!parse_special || specials_longest_first_.empty()) {
    if (!text.empty()) on_text(text);
    return;
  }
  size_t start = 0;
  size_t at = 0;
  while (at < text.size()) {
    if (!special_first_byte_[static_cast<unsigned char>(text[at])]) {
      ++at;
      continue;
    }
    int32_t found = -1;
    for (int32_t id : specials_longest_first_) {
      const std::string& spelling = tokens_[id].text;
      if (!spelling.empty() && text.compare(at, spelling.size(), spelling) == 0) {
        found = id;
        break;
      }
    }
    if (found < 0) {
      ++at;
      continue;
    }
    if (at > start) on_text(text.substr(start, at - start));
    on_special(found);
    at += tokens_[found].text.size();
    start = at;
  }
  if (start < text.size()) on_text(text.substr(start));
}

}  // namespace swebox::model
