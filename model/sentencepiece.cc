#include "model/sentencepiece.h"

#include <cmath>
#include <cstring>
#include <queue>

#include "model/tokenizer_file.h"

namespace swebox::model {

namespace {

constexpr std::string_view kLowerBlock = "\xE2\x96\x81";  // ▁ U+2581, SentencePiece's space

// "<0xNN>" -> NN, or -1.
int byte_token_value(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return -1;
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value *= 16;
    if (c >= '0' && c <= '9') value += c - '0';
    else if (c >= 'A' && c <= 'F') value += c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') value += c - 'a' + 10;
    else return -1;
  }
  return value;
}

// The length of the character at `at`: a byte and the UTF-8 continuation bytes after it, at most
// four in all (llama2.c's rule; on invalid UTF-8 it never swallows a following ASCII byte).
size_t character_length(std::string_view text, size_t at) {
  size_t length = 1;
  while (length < 4 && at + length < text.size() &&
         (static_cast<unsigned char>(text[at + length]) & 0xC0) == 0x80)
    ++length;
  return length;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (true) {
    size_t next = text.find(from, at);
    if (next == std::string_view::npos) break;
    out.append(text.substr(at, next - at));
    out.append(to);
    at = next + from.size();
  }
  out.append(text.substr(at));
  return out;
}

}  // namespace

SentencePieceTokenizer::SentencePieceTokenizer(std::vector<Token> tokens, int32_t bos, int32_t eos,
                                               int32_t unknown, Options options, std::string source)
    : options_(options), unknown_(unknown) {
  tokens_ = std::move(tokens);
  bos_ = bos;
  eos_ = eos;
  add_space_prefix_ = options.add_space_prefix;
  source_ = std::move(source);
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  for (size_t id = 0; id < tokens_.size(); ++id) {
    Token& token = tokens_[id];
    int byte = byte_token_value(token.text);
    if (byte >= 0 && (token.type == TokenType::byte || token.type == TokenType::normal ||
                      token.type == TokenType::undefined)) {
      token.type = TokenType::byte;
      token.bytes = std::string(1, static_cast<char>(byte));
      if (byte_ids_[byte] < 0) byte_ids_[byte] = static_cast<int32_t>(id);
    } else if (options.spaces_as_lower_block && token.type != TokenType::control) {
      token.bytes = replace_all(token.text, kLowerBlock, " ");
    } else {
      token.bytes = token.text;
    }
  }
  index_tokens();
}

std::vector<int32_t> SentencePieceTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> out;
  if (options.add_bos && bos_ >= 0) out.push_back(bos_);
  bool after_special = true;  // the dummy prefix goes on the text at the start and after a special token
  split_special(
      text, options.parse_special,
      [&](std::string_view fragment) {
        std::string prefixed;
        if (options_.add_space_prefix && after_special) {
          prefixed = " ";
          prefixed.append(fragment);
          fragment = prefixed;
        }
        encode_text(fragment, out);
        after_special = false;
      },
      [&](int32_t id) {
        out.push_back(id);
        after_special = true;
      });
  if (options.add_eos && eos_ >= 0) out.push_back(eos_);
  return out;
}

void SentencePieceTokenizer::encode_text(std::string_view raw, std::vector<int32_t>& out) const {
  if (raw.empty()) return;
  const std::string text =
      options_.spaces_as_lower_block ? replace_all(raw, " ", kLowerBlock) : std::string(raw);

  // The pieces, a doubly linked list over `text`; a merged piece keeps its left piece's index.
  struct Piece {
    size_t start;
    size_t length;
    int prev;
    int next;
  };
  std::vector<Piece> pieces;
  for (size_t at = 0; at < text.size();) {
    size_t length = character_length(text, at);
    int index = static_cast<int>(pieces.size());
    pieces.push_back({at, length, index - 1, index + 1});
    at += length;
  }
  pieces.back().next = -1;

  struct Candidate {
    float score;
    int left;
    size_t length;  // the merged length: a candidate whose pieces changed since is stale
  };
  auto lower_priority = [](const Candidate& a, const Candidate& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> queue(lower_priority);
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    std::string_view merged(text.data() + pieces[left].start, pieces[left].length + pieces[right].length);
    auto found = by_text_.find(std::string(merged));
    if (found == by_text_.end()) return;
    queue.push({tokens_[found->second].score, left, merged.size()});
  };
  for (size_t i = 0; i + 1 < pieces.size(); ++i) consider(static_cast<int>(i), static_cast<int>(i + 1));

  while (!queue.empty()) {
    Candidate best = queue.top();
    queue.pop();
    Piece& left = pieces[best.left];
    if (left.length == 0 || left.next < 0) continue;
    Piece& right = pieces[left.next];
    if (left.length + right.length != best.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (left.next >= 0) pieces[left.next].prev = best.left;
    consider(left.prev, best.left);
    consider(best.left, left.next);
  }

  for (int i = 0; i >= 0; i = pieces[i].next) {
    std::string_view piece(text.data() + pieces[i].start, pieces[i].length);
    auto found = by_text_.find(std::string(piece));
    if (found != by_text_.end()) {
      out.push_back(found->second);
      continue;
    }
    for (unsigned char byte : piece) {
      int32_t id = byte_ids_[byte] >= 0 ? byte_ids_[byte] : unknown_;
      if (id >= 0) out.push_back(id);
    }
  }
}

std::unique_ptr<SentencePieceTokenizer> parse_llama2c_tokenizer(std::string_view bytes, const std::string& name) {
  ByteReader in(bytes, name);
  int32_t max_token_length = in.i32("max_token_length");
  if (max_token_length <= 0 || max_token_length > (1 << 20))
    throw TokenizerError(name + ": max_token_length " + std::to_string(max_token_length) +
                         " is not a llama2.c tokenizer.bin header (expected 1..1048576)");
  std::vector<Token> tokens;
  while (!in.done()) {
    std::string what = "token " + std::to_string(tokens.size());
    Token token;
    token.score = in.f32(what + " score");
    if (!std::isfinite(token.score))
      throw TokenizerError(name + ": " + what + " has a score that is not a finite number");
    int32_t length = in.i32(what + " length");
    if (length < 0 || length > max_token_length)
      throw TokenizerError(name + ": " + what + " is " + std::to_string(length) +
                           " bytes long, outside 0.." + std::to_string(max_token_length) +
                           " (the header's max_token_length)");
    token.text = std::string(in.bytes(static_cast<size_t>(length), what + " text"));
    tokens.push_back(std::move(token));
  }
  if (tokens.size() < 3)
    throw TokenizerError(name + ": " + std::to_string(tokens.size()) +
                         " tokens; a llama2.c tokenizer has at least <unk>, BOS and EOS");
  tokens[0].type = TokenType::unknown;
  tokens[1].type = TokenType::control;
  tokens[2].type = TokenType::control;
  SentencePieceTokenizer::Options options;
  options.spaces_as_lower_block = false;
  options.add_space_prefix = true;
  return std::make_unique<SentencePieceTokenizer>(std::move(tokens), 1, 2, 0, options, "llama2.c tokenizer.bin");
}

std::unique_ptr<SentencePieceTokenizer> read_llama2c_tokenizer(const std::string& path) {
  return parse_llama2c_tokenizer(read_tokenizer_file(path), path);
}

}  // namespace swebox::model
