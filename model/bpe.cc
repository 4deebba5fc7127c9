#include "model/bpe.h"

#include <algorithm>
#include <charconv>
#include <queue>

#include <nlohmann/json.hpp>

namespace swebox::model {

namespace {

// GPT-2's byte-to-unicode table: printable Latin-1 bytes stand for themselves, the other 68 bytes
// for U+0100 onwards in byte order.
struct Gpt2Spelling {
  char32_t of_byte[256];
  int byte_of[512];
  Gpt2Spelling() {
    std::fill(std::begin(byte_of), std::end(byte_of), -1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      of_byte[b] = printable ? static_cast<char32_t>(b) : next++;
      byte_of[of_byte[b]] = b;
    }
  }
};
const Gpt2Spelling& gpt2_spelling() {
  static const Gpt2Spelling table;
  return table;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

}  // namespace

std::optional<std::string> gpt2_spelling_to_bytes(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char b = static_cast<unsigned char>(text[i]);
    char32_t c;
    if (b < 0x80) {
      c = b;
      i += 1;
    } else if ((b & 0xE0) == 0xC0 && i + 1 < text.size()) {
      c = ((b & 0x1F) << 6) | (static_cast<unsigned char>(text[i + 1]) & 0x3F);
      i += 2;
    } else {
      return std::nullopt;  // U+0800 and above: not the spelling of a byte
    }
    if (c >= 512 || gpt2_spelling().byte_of[c] < 0) return std::nullopt;
    out += static_cast<char>(gpt2_spelling().byte_of[c]);
  }
  return out;
}

std::string bytes_to_gpt2_spelling(std::string_view bytes) {
  std::string out;
  for (unsigned char b : bytes) append_utf8(out, gpt2_spelling().of_byte[b]);
  return out;
}

BpeTokenizer::BpeTokenizer(std::vector<Token> tokens, const std::vector<Merge>& merges, int32_t bos, int32_t eos,
                           Options options, std::string source)
    : options_(options) {
  tokens_ = std::move(tokens);
  bos_ = bos;
  eos_ = eos;
  source_ = std::move(source);
  std::fill(std::begin(byte_ids_), std::end(byte_ids_), -1);
  by_bytes_.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) {
    const Token& t = tokens_[id];
    if (t.type == TokenType::control || t.type == TokenType::user_defined || t.type == TokenType::unused) continue;
    by_bytes_.emplace(t.bytes, static_cast<int32_t>(id));
    if (t.bytes.size() == 1 && byte_ids_[static_cast<unsigned char>(t.bytes[0])] < 0)
      byte_ids_[static_cast<unsigned char>(t.bytes[0])] = static_cast<int32_t>(id);
  }
  for (int b = 0; b < 256; ++b)
    if (byte_ids_[b] < 0)
      throw TokenizerError(source_ + ": byte 0x" + "0123456789ABCDEF"[b >> 4] + "0123456789ABCDEF"[b & 15] +
                           " has no token (a byte-level BPE vocabulary has all 256)");
  merges_.reserve(merges.size());
  for (const Merge& m : merges) merges_.emplace(pair_key(m.left, m.right), std::make_pair(m.rank, m.result));
  index_tokens();
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  std::vector<int32_t> out;
  if (options.add_bos && bos_ >= 0) out.push_back(bos_);
  split_special(
      text, options.parse_special,
      [&](std::string_view fragment) {
        for (std::string_view piece : pre_tokenize(fragment, options_.pre_tokenizer)) encode_piece(piece, out);
      },
      [&](int32_t id) { out.push_back(id); });
  if (options.add_eos && eos_ >= 0) out.push_back(eos_);
  return out;
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.empty()) return;
  if (options_.ignore_merges || piece.size() == 1) {
    auto whole = by_bytes_.find(std::string(piece));
    if (whole != by_bytes_.end()) {
      out.push_back(whole->second);
      return;
    }
  }
  struct Symbol {
    int32_t id;
    int prev;
    int next;
  };
  std::vector<Symbol> symbols(piece.size());
  for (size_t i = 0; i < piece.size(); ++i)
    symbols[i] = {byte_ids_[static_cast<unsigned char>(piece[i])], static_cast<int>(i) - 1, static_cast<int>(i) + 1};
  symbols.back().next = -1;

  struct Candidate {
    int32_t rank;
    int left;
    int32_t left_id;
    int32_t right_id;
  };
  auto lower_priority = [](const Candidate& a, const Candidate& b) {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  };
  std::priority_queue<Candidate, std::vector<Candidate>, decltype(lower_priority)> queue(lower_priority);
  auto consider = [&](int left) {
    if (left < 0 || symbols[left].next < 0) return;
    int32_t a = symbols[left].id, b = symbols[symbols[left].next].id;
    auto found = merges_.find(pair_key(a, b));
    if (found != merges_.end()) queue.push({found->second.first, left, a, b});
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) consider(static_cast<int>(i));
  while (!queue.empty()) {
    Candidate best = queue.top();
    queue.pop();
    Symbol& left = symbols[best.left];
    // Stale when either side changed since the candidate was found.
    if (left.id != best.left_id || left.next < 0 || symbols[left.next].id != best.right_id) continue;
    Symbol& right = symbols[left.next];
    left.id = merges_.at(pair_key(best.left_id, best.right_id)).second;
    right.id = -1;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = best.left;
    consider(left.prev);
    consider(best.left);
  }
  for (int i = 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

std::unique_ptr<BpeTokenizer> make_gpt2_bpe(const std::vector<std::string>& texts, const std::vector<TokenType>& types,
                                            const std::vector<std::string>& merges, int32_t bos, int32_t eos,
                                            BpeTokenizer::Options options, const std::string& name,
                                            const std::string& source) {
  std::vector<Token> tokens(texts.size());
  std::unordered_map<std::string_view, int32_t> by_text;
  by_text.reserve(texts.size());
  for (size_t id = 0; id < texts.size(); ++id) {
    Token& t = tokens[id];
    t.text = texts[id];
    t.type = id < types.size() ? types[id] : TokenType::normal;
    std::optional<std::string> bytes =
        t.type == TokenType::control || t.type == TokenType::user_defined ? std::nullopt : gpt2_spelling_to_bytes(t.text);
    t.bytes = bytes ? *bytes : t.text;
    by_text.emplace(texts[id], static_cast<int32_t>(id));
  }
  std::vector<BpeTokenizer::Merge> rules;
  rules.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& m = merges[rank];
    size_t space = m.find(' ', 1);
    auto bad = [&](const std::string& why) {
      return TokenizerError(name + ": merge " + std::to_string(rank) + " \"" + m.substr(0, 100) + "\": " + why);
    };
    if (space == std::string::npos) throw bad("not two tokens separated by a space");
    std::string_view left(m.data(), space), right(m.data() + space + 1, m.size() - space - 1);
    auto l = by_text.find(left), r = by_text.find(right);
    auto result = by_text.find(std::string(left) + std::string(right));
    if (l == by_text.end() || r == by_text.end() || result == by_text.end())
      throw bad("names a token that is not in the vocabulary");
    rules.push_back({l->second, r->second, static_cast<int32_t>(rank), result->second});
  }
  try {
    return std::make_unique<BpeTokenizer>(std::move(tokens), rules, bos, eos, options, source);
  } catch (const TokenizerError& e) {
    throw TokenizerError(name + ": " + e.what());
  }
}

std::unique_ptr<BpeTokenizer> parse_tokenizer_json(std::string_view bytes, const std::string& name) {
  using nlohmann::json;
  json doc;
  try {
    doc = json::parse(bytes);
  } catch (const std::exception& e) {
    throw TokenizerError(name + ": not valid JSON: " + e.what());
  }
  auto fail = [&](const std::string& why) { return TokenizerError(name + ": " + why); };
  if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object())
    throw fail("no \"model\" object: not a HuggingFace tokenizer.json");
  const json& model = doc["model"];
  std::string type = model.value("type", std::string("BPE"));
  if (type != "BPE") throw fail("model type \"" + type + "\": only byte-level BPE tokenizer.json files are read");
  if (model.value("byte_fallback", false))
    throw fail("a byte_fallback BPE (SentencePiece-style) tokenizer.json is not read: give the model's GGUF instead");
  if (!model.contains("vocab") || !model["vocab"].is_object()) throw fail("model.vocab is not an object");
  if (!model.contains("merges") || !model["merges"].is_array()) throw fail("model.merges is not an array");

  constexpr int64_t kMaxVocab = 1 << 24;
  std::vector<std::string> texts;
  std::vector<TokenType> types;
  std::vector<bool> present;
  auto put = [&](const std::string& text, const json& id_value, TokenType t) {
    if (!id_value.is_number_integer()) throw fail("token \"" + text.substr(0, 100) + "\" has no integer id");
    int64_t id = id_value.get<int64_t>();
    if (id < 0 || id >= kMaxVocab) throw fail("token \"" + text.substr(0, 100) + "\" has id " + std::to_string(id));
    if (static_cast<size_t>(id) >= texts.size()) {
      texts.resize(id + 1);
      types.resize(id + 1, TokenType::unused);
      present.resize(id + 1, false);
    }
    texts[id] = text;
    types[id] = t;
    present[id] = true;
  };
  for (const auto& [text, id] : model["vocab"].items()) put(text, id, TokenType::normal);
  if (doc.contains("added_tokens") && doc["added_tokens"].is_array())
    for (const json& added : doc["added_tokens"]) {
      if (!added.is_object() || !added.contains("content") || !added["content"].is_string())
        throw fail("an added_tokens entry has no string \"content\"");
      put(added["content"].get<std::string>(), added.value("id", json()),
          added.value("special", false) ? TokenType::control : TokenType::user_defined);
    }
  std::vector<std::string> merges;
  merges.reserve(model["merges"].size());
  for (const json& m : model["merges"]) {
    if (m.is_string()) merges.push_back(m.get<std::string>());
    else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string())
      merges.push_back(m[0].get<std::string>() + " " + m[1].get<std::string>());
    else throw fail("model.merges holds an entry that is neither \"A B\" nor [\"A\", \"B\"]");
  }

  // The pre-tokenizer, recognised by its regex.
  std::string patterns;
  std::function<void(const json&)> collect = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("Regex") && j["Regex"].is_string()) patterns += j["Regex"].get<std::string>() + "\n";
      for (const auto& [k, v] : j.items()) collect(v);
    } else if (j.is_array()) {
      for (const json& v : j) collect(v);
    }
  };
  if (doc.contains("pre_tokenizer")) collect(doc["pre_tokenizer"]);
  BpeTokenizer::Options options;
  options.ignore_merges = model.value("ignore_merges", false);
  if (patterns.find("\\p{N}{1,3}") != std::string::npos) options.pre_tokenizer = PreTokenizer::llama3;
  else if (patterns.find("[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|") != std::string::npos) options.pre_tokenizer = PreTokenizer::qwen2;
  else if (patterns.empty()) options.pre_tokenizer = PreTokenizer::gpt2;  // ByteLevel's own regex
  else throw fail("pre-tokenizer regex not recognised (known: GPT-2's, Llama 3's, Qwen2's): " + patterns.substr(0, 200));

  auto find = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      for (size_t id = 0; id < texts.size(); ++id)
        if (present[id] && types[id] == TokenType::control && texts[id] == n) return static_cast<int32_t>(id);
    return int32_t{-1};
  };
  int32_t bos = find({"<|begin_of_text|>", "<s>"});
  int32_t eos = find({"<|end_of_text|>", "<|endoftext|>", "</s>"});
  return make_gpt2_bpe(texts, types, merges, bos, eos, options, name, "tokenizer.json");
}

namespace {

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> base64_decode(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s[i + k];
      if (c == '=' && i + 4 == s.size() && k >= 2) {
        v[k] = 0;
        ++pad;
      } else if (pad > 0 || (v[k] = base64_value(c)) < 0) {
        return std::nullopt;
      }
    }
    uint32_t n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xFF);
    if (pad < 1) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

std::vector<std::string> llama3_special_tokens() {
  std::vector<std::string> names = {"<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                                    "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                                    "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>",
                                    "<|python_tag|>"};
  for (int i = 0; names.size() < 256; ++i) names.push_back("<|reserved_special_token_" + std::to_string(3 + i) + "|>");
  return names;
}

}  // namespace

std::unique_ptr<BpeTokenizer> parse_tiktoken_ranks(std::string_view bytes, const std::string& name) {
  std::vector<std::string> by_rank;
  std::vector<bool> present;
  size_t line_number = 0;
  size_t at = 0;
  while (at < bytes.size()) {
    size_t end = bytes.find('\n', at);
    if (end == std::string_view::npos) end = bytes.size();
    std::string_view line = bytes.substr(at, end - at);
    at = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return TokenizerError(name + ": line " + std::to_string(line_number) + ": " + why +
                            " (a tiktoken ranks file has a base64 token, a space and its rank per line)");
    };
    size_t space = line.find(' ');
    if (space == std::string_view::npos) throw bad("no space");
    std::optional<std::string> token = base64_decode(line.substr(0, space));
    if (!token) throw bad("the token is not base64");
    std::string_view rank_text = line.substr(space + 1);
    uint32_t rank = 0;
    auto [ptr, ec] = std::from_chars(rank_text.data(), rank_text.data() + rank_text.size(), rank);
    if (ec != std::errc() || ptr != rank_text.data() + rank_text.size() || rank >= (1u << 24))
      throw bad("the rank is not a whole number below 16777216");
    if (rank >= by_rank.size()) {
      by_rank.resize(rank + 1);
      present.resize(rank + 1, false);
    }
    if (present[rank]) throw bad("rank " + std::to_string(rank) + " appears twice");
    by_rank[rank] = std::move(*token);
    present[rank] = true;
  }
  if (by_rank.empty()) throw TokenizerError(name + ": no tokens in the tiktoken ranks file");
  std::vector<Token> tokens(by_rank.size());
  std::unordered_map<std::string_view, int32_t> by_bytes;
  for (size_t id = 0; id < by_rank.size(); ++id) {
    tokens[id].bytes = by_rank[id];
    tokens[id].text = by_rank[id];
    tokens[id].type = present[id] ? TokenType::normal : TokenType::unused;
    if (present[id]) by_bytes.emplace(by_rank[id], static_cast<int32_t>(id));
  }
  // A merge's rank is the rank of the token it makes, for every split of that token into two tokens.
  std::vector<BpeTokenizer::Merge> merges;
  for (size_t id = 0; id < by_rank.size(); ++id) {
    std::string_view t = by_rank[id];
    for (size_t cut = 1; cut < t.size(); ++cut) {
      auto l = by_bytes.find(t.substr(0, cut)), r = by_bytes.find(t.substr(cut));
      if (l != by_bytes.end() && r != by_bytes.end())
        merges.push_back({l->second, r->second, static_cast<int32_t>(id), static_cast<int32_t>(id)});
    }
  }
  int32_t bos = -1, eos = -1;
  if (by_rank.size() == 128000) {
    for (const std::string& special : llama3_special_tokens()) tokens.push_back({special, special, 0, TokenType::control});
    bos = 128000;
    eos = 128001;
  }
  BpeTokenizer::Options options;
  options.pre_tokenizer = PreTokenizer::llama3;
  options.ignore_merges = true;
  try {
    return std::make_unique<BpeTokenizer>(std::move(tokens), merges, bos, eos, options, "tiktoken ranks");
  } catch (const TokenizerError& e) {
    throw TokenizerError(name + ": " + e.what());
  }
}

}  // namespace swebox::model
