#include "model/tokenizer.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <fstream>
#include <sstream>

#include "model/bpe.h"
#include "model/gguf_vocab.h"
#include "model/sentencepiece.h"
#include "model/tokenizer_file.h"

namespace swebox::model {

std::string read_tokenizer_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path + ": cannot open the tokenizer file");
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) throw TokenizerError(path + ": cannot read the tokenizer file");
  return std::move(out).str();
}

const Token& Tokenizer::token(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    throw TokenizerError("token id " + std::to_string(id) + " is outside the vocabulary (" +
                         std::to_string(vocab_size()) + " tokens, from " + source_ + ")");
  return tokens_[static_cast<size_t>(id)];
}

const std::string& Tokenizer::piece(int32_t id) const { return token(id).bytes; }

std::optional<int32_t> Tokenizer::find(std::string_view text) const {
  auto found = by_text_.find(std::string(text));
  if (found == by_text_.end()) return std::nullopt;
  return found->second;
}

bool Tokenizer::is_special(int32_t id) const {
  TokenType type = token(id).type;
  return type == TokenType::control || type == TokenType::user_defined;
}

std::vector<int32_t> Tokenizer::special_ids() const {
  std::vector<int32_t> out;
  for (int32_t id = 0; id < vocab_size(); ++id)
    if (is_special(id)) out.push_back(id);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  std::string out;
  bool first_text = true;
  for (int32_t id : ids) {
    const Token& t = token(id);
    if (t.type == TokenType::control) continue;
    std::string_view bytes = t.bytes;
    if (first_text && add_space_prefix_ && !bytes.empty() && bytes[0] == ' ') bytes.remove_prefix(1);
    first_text = false;
    out.append(bytes);
  }
  return out;
}

std::string Tokenizer::decode_next(int32_t previous, int32_t id) const {
  const Token& t = token(id);
  if (t.type == TokenType::control) return {};
  std::string_view bytes = t.bytes;
  if (add_space_prefix_ && previous == bos_ && bos_ >= 0 && !bytes.empty() && bytes[0] == ' ')
    bytes.remove_prefix(1);
  return std::string(bytes);
}

void Tokenizer::index_tokens() {
  by_text_.clear();
  by_text_.reserve(tokens_.size());
  specials_longest_first_.clear();
  std::fill(std::begin(special_first_byte_), std::end(special_first_byte_), false);
  for (size_t id = 0; id < tokens_.size(); ++id) {
    by_text_.emplace(tokens_[id].text, static_cast<int32_t>(id));  // the first of duplicates wins
    TokenType type = tokens_[id].type;
    if ((type == TokenType::control || type == TokenType::user_defined) && !tokens_[id].text.empty()) {
      specials_longest_first_.push_back(static_cast<int32_t>(id));
      special_first_byte_[static_cast<unsigned char>(tokens_[id].text[0])] = true;
    }
  }
  std::stable_sort(specials_longest_first_.begin(), specials_longest_first_.end(), [&](int32_t a, int32_t b) {
    return tokens_[a].text.size() > tokens_[b].text.size();
  });
}

namespace {
// The first line is "BASE64 DIGITS".
bool looks_like_tiktoken(std::string_view bytes) {
  std::string_view line = bytes.substr(0, bytes.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t space = line.find(' ');
  if (space == 0 || space == std::string_view::npos || space + 1 == line.size()) return false;
  for (char c : line.substr(0, space))
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '/' && c != '=') return false;
  for (char c : line.substr(space + 1))
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}
}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& path) {
  std::string bytes = read_tokenizer_file(path);
  if (bytes.compare(0, 4, "GGUF") == 0) {
    try {
      return tokenizer_from_gguf(Gguf::parse(MappedFile::from_bytes(bytes), path));
    } catch (const GgufError& e) {
      throw TokenizerError(e.what());
    }
  }
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && bytes[first] == '{') return parse_tokenizer_json(bytes, path);
  if (looks_like_tiktoken(bytes)) return parse_tiktoken_ranks(bytes, path);
  // A llama2.c tokenizer.bin has no magic: a plausible max_token_length (little-endian int32) first.
  if (bytes.size() >= 4) {
    int32_t max_token_length;
    std::memcpy(&max_token_length, bytes.data(), 4);
    if (max_token_length > 0 && max_token_length <= 4096) return parse_llama2c_tokenizer(bytes, path);
  }
  throw TokenizerError(path +
                       ": not a tokenizer file: expected a GGUF model, a HuggingFace tokenizer.json, a tiktoken "
                       "ranks file (a base64 token and its rank per line) or a llama2.c tokenizer.bin");
}

}  // namespace swebox::model
