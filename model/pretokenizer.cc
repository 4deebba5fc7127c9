#include "model/pretokenizer.h"

#include <algorithm>

namespace swebox::model {

namespace {

struct CodepointRange {
  char32_t first;
  char32_t last;
};
#include "model/unicode_tables.inc"

template <size_t N>
bool in_ranges(const CodepointRange (&ranges)[N], char32_t c) {
  auto after = std::upper_bound(std::begin(ranges), std::end(ranges), c,
                                [](char32_t value, const CodepointRange& r) { return value < r.first; });
  return after != std::begin(ranges) && c <= (after - 1)->last;
}

constexpr char32_t kInvalid = 0xFFFFFFFF;  // a byte that starts no valid UTF-8 sequence

// The text as code points, each with its byte offset (one extra entry: the end).
struct Decoded {
  std::vector<char32_t> chars;
  std::vector<size_t> offsets;
};

Decoded decode_utf8(std::string_view s) {
  Decoded d;
  d.chars.reserve(s.size());
  d.offsets.reserve(s.size() + 1);
  size_t i = 0;
  while (i < s.size()) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    size_t length = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    char32_t c = kInvalid;
    if (length == 1) {
      c = b;
    } else if (length > 1 && i + length <= s.size()) {
      c = b & (0x7F >> length);
      for (size_t k = 1; k < length; ++k) {
        unsigned char cb = static_cast<unsigned char>(s[i + k]);
        if ((cb & 0xC0) != 0x80) {
          c = kInvalid;
          break;
        }
        c = (c << 6) | (cb & 0x3F);
      }
      // Overlong forms, surrogates and values past U+10FFFF are invalid too.
      static constexpr char32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
      if (c != kInvalid && (c < kMinimum[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))) c = kInvalid;
    }
    if (c == kInvalid) length = 1;
    d.chars.push_back(c);
    d.offsets.push_back(i);
    i += length;
  }
  d.offsets.push_back(s.size());
  return d;
}

char32_t ascii_lower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

}  // namespace

bool is_unicode_letter(char32_t c) { return c != kInvalid && in_ranges(kLetterRanges, c); }
bool is_unicode_number(char32_t c) { return c != kInvalid && in_ranges(kNumberRanges, c); }
bool is_unicode_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

std::optional<PreTokenizer> pre_tokenizer_named(std::string_view name) {
  if (name == "gpt2" || name == "gpt-2" || name == "default") return PreTokenizer::gpt2;
  if (name == "llama3" || name == "llama-bpe" || name == "llama-v3" || name == "cl100k_base")
    return PreTokenizer::llama3;
  if (name == "qwen2") return PreTokenizer::qwen2;
  return std::nullopt;
}

std::string_view pre_tokenizer_name(PreTokenizer kind) {
  switch (kind) {
    case PreTokenizer::gpt2: return "gpt2";
    case PreTokenizer::llama3: return "llama3";
    case PreTokenizer::qwen2: return "qwen2";
  }
  return "?";
}

std::vector<std::string_view> pre_tokenize(std::string_view text, PreTokenizer kind) {
  const Decoded d = decode_utf8(text);
  const std::vector<char32_t>& c = d.chars;
  const size_t n = c.size();
  auto L = [&](size_t i) { return i < n && is_unicode_letter(c[i]); };
  auto N = [&](size_t i) { return i < n && is_unicode_number(c[i]); };
  auto S = [&](size_t i) { return i < n && is_unicode_white_space(c[i]); };
  auto crlf = [&](size_t i) { return i < n && (c[i] == '\r' || c[i] == '\n'); };
  auto other = [&](size_t i) { return i < n && !S(i) && !L(i) && !N(i); };  // [^\s\p{L}\p{N}]
  const bool case_insensitive = kind != PreTokenizer::gpt2;

  std::vector<std::string_view> pieces;
  size_t pos = 0;
  auto take = [&](size_t end) {
    pieces.push_back(text.substr(d.offsets[pos], d.offsets[end] - d.offsets[pos]));
    pos = end;
  };
  while (pos < n) {
    // 's 't 're 've 'm 'll 'd
    if (c[pos] == '\'' && pos + 1 < n) {
      char32_t a = case_insensitive ? ascii_lower(c[pos + 1]) : c[pos + 1];
      char32_t b = pos + 2 < n ? (case_insensitive ? ascii_lower(c[pos + 2]) : c[pos + 2]) : 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        take(pos + 2);
        continue;
      }
      if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
        take(pos + 3);
        continue;
      }
    }
    size_t end = pos;
    if (kind == PreTokenizer::gpt2) {
      size_t start = c[pos] == ' ' ? pos + 1 : pos;  // " ?"
      if (L(start)) {
        for (end = start; L(end); ++end) {}
        take(end);
        continue;
      }
      if (N(start)) {
        for (end = start; N(end); ++end) {}
        take(end);
        continue;
      }
      if (other(start)) {
        for (end = start; other(end); ++end) {}
        take(end);
        continue;
      }
    } else {
      // [^\r\n\p{L}\p{N}]?\p{L}+
      if (!crlf(pos) && !L(pos) && !N(pos) && L(pos + 1)) {
        for (end = pos + 1; L(end); ++end) {}
        take(end);
        continue;
      }
      if (L(pos)) {
        for (end = pos; L(end); ++end) {}
        take(end);
        continue;
      }
      // \p{N}{1,3} (llama3) or \p{N} (qwen2)
      if (N(pos)) {
        size_t most = kind == PreTokenizer::llama3 ? 3 : 1;
        for (end = pos; N(end) && end - pos < most; ++end) {}
        take(end);
        continue;
      }
      //  ?[^\s\p{L}\p{N}]+[\r\n]*
      size_t start = c[pos] == ' ' && other(pos + 1) ? pos + 1 : pos;
      if (other(start)) {
        for (end = start; other(end); ++end) {}
        while (crlf(end)) ++end;
        take(end);
        continue;
      }
      // \s*[\r\n]+ : the whitespace up to and including its last line break
      if (S(pos)) {
        size_t run_end = pos;
        while (S(run_end)) ++run_end;
        size_t last_break = run_end;
        for (size_t k = run_end; k > pos; --k)
          if (crlf(k - 1)) {
            last_break = k - 1;
            break;
          }
        if (last_break != run_end) {
          take(last_break + 1);
          continue;
        }
      }
    }
    // \s+(?!\S) then \s+
    if (S(pos)) {
      size_t run_end = pos;
      while (S(run_end)) ++run_end;
      if (run_end < n && run_end - pos > 1) --run_end;  // leave the last space to the word after it
      take(run_end);
      continue;
    }
    take(pos + 1);  // a character no alternative matches (only invalid UTF-8 can get here)
  }
  return pieces;
}

}  // namespace swebox::model
