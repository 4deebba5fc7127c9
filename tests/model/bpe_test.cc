// Byte-level BPE, GGUF vocabularies and tokenizer files, against peers measured for real: Llama 3's
// vocabulary from llama3-tokenizer-js and OpenAI's cl100k_base from js-tiktoken (npm; installed into
// a temporary folder, never the repository; the tests skip with a message when npm is unreachable),
// and stories260K's GGUF vocabulary against its llama2.c tokenizer.bin.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "model/bpe.h"
#include "model/gguf_writer.h"
#include "model/sentencepiece.h"
#include "model/tokenizer.h"
#include "tokenizer_texts.h"

using namespace swebox::model;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kShared = SWEBOX_SHARED_DIR "/models/stories260K";

using swebox::test::slurp_bytes;

std::vector<std::string> varied_texts() { return swebox::test::varied_utf8_texts(); }

// The npm peers' outputs for `texts`, in a temporary folder; "" with the reason in `why`.
std::string run_peers(const std::vector<std::string>& texts, std::string& why) {
  const char* env = std::getenv("SWEBOX_NPM_PEERS");
  std::string prefix = env ? env : (fs::temp_directory_path() / "swebox-npm-peers").string();
  std::string modules = prefix + "/node_modules";
  if (!fs::exists(modules + "/js-tiktoken") || !fs::exists(modules + "/llama3-tokenizer-js")) {
    std::string install = "timeout 240 npm install --prefix '" + prefix +
                          "' --no-audit --no-fund --no-save js-tiktoken@1.0.21 llama3-tokenizer-js@1.2.0 >'" + prefix +
                          ".log' 2>&1";
    fs::create_directories(prefix);
    if (std::system(install.c_str()) != 0) {
      why = "npm could not install js-tiktoken and llama3-tokenizer-js (unreachable?): see " + prefix + ".log";
      return "";
    }
  }
  fs::path out = fs::temp_directory_path() / ("swebox-bpe-peers-" + std::to_string(::getpid()));
  fs::create_directories(out);
  {
    std::ofstream f(out / "texts", std::ios::binary);
    for (const std::string& t : texts) f << t << '\0';
  }
  std::string command = "node '" SWEBOX_SOURCE_DIR "/tests/model/peers/bpe_peers.mjs' '" + modules + "' '" +
                        out.string() + "' '" + (out / "texts").string() + "' 2>&1";
  if (std::system(command.c_str()) != 0) {
    why = "the node peers failed (is node installed?)";
    return "";
  }
  return out.string();
}

using swebox::test::read_id_lines;

// llama3-tokenizer-js reads special tokens spelled in the text as those tokens (parse_special);
// js-tiktoken is asked to read them as text.
void check_same_ids(const Tokenizer& ours, const std::vector<std::string>& texts,
                    const std::vector<std::vector<int32_t>>& theirs, bool parse_special) {
  REQUIRE(theirs.size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    std::vector<int32_t> ids = ours.encode(texts[i], {.parse_special = parse_special});
    CHECK(ids == theirs[i]);
    std::vector<int32_t> plain = ours.encode(texts[i]);
    CHECK(ours.decode(plain) == texts[i]);
  }
}

// A GGUF holding only the vocabulary of `tokenizer_json` as llama.cpp's converter writes a `gpt2` one.
std::string gguf_from_tokenizer_json(const std::string& tokenizer_json, const std::string& path) {
  json doc = json::parse(tokenizer_json);
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  for (const auto& [text, id] : doc["model"]["vocab"].items()) {
    size_t i = id.get<size_t>();
    if (tokens.size() <= i) tokens.resize(i + 1), types.resize(i + 1, 1);
    tokens[i] = text;
  }
  for (const json& added : doc["added_tokens"]) {
    size_t i = added["id"].get<size_t>();
    if (tokens.size() <= i) tokens.resize(i + 1), types.resize(i + 1, 1);
    tokens[i] = added["content"];
    types[i] = 3;
  }
  std::vector<std::string> merges;
  for (const json& m : doc["model"]["merges"]) merges.push_back(m);
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("tokenizer.ggml.model", "gpt2");
  w.add_string("tokenizer.ggml.pre", "llama-bpe");
  w.add_strings("tokenizer.ggml.tokens", tokens);
  w.add_int32s("tokenizer.ggml.token_type", types);
  w.add_strings("tokenizer.ggml.merges", merges);
  w.add_uint32("tokenizer.ggml.bos_token_id", 128000);
  w.add_uint32("tokenizer.ggml.eos_token_id", 128009);
  w.write(path);
  return path;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("tokenizer: Llama 3 and cl100k_base BPE ids equal the npm peers' on varied text") {
  std::vector<std::string> texts = varied_texts();
  texts.push_back(slurp_bytes(SWEBOX_SOURCE_DIR "/model/bpe.cc"));  // real code
  texts.push_back(slurp_bytes(SWEBOX_SOURCE_DIR "/README.md"));     // real prose, tables, unicode
  std::string why;
  std::string out = run_peers(texts, why);
  if (out.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  auto llama3_ids = read_id_lines(out + "/llama3.ids");
  SUBCASE("tokenizer.json") {
    auto t = load_tokenizer(out + "/llama3.tokenizer.json");
    CHECK(t->kind() == "bpe");
    CHECK(t->source() == "tokenizer.json");
    CHECK(t->vocab_size() == 128256);
    check_same_ids(*t, texts, llama3_ids, true);
    CHECK(t->encode("<|eot_id|>x", {.parse_special = true}).front() == 128009);
    CHECK(t->encode("<|eot_id|>", {}).size() > 1);  // without parse_special it is text
  }
  SUBCASE("tiktoken ranks, Llama 3's specials after them") {
    auto t = load_tokenizer(out + "/llama3.tiktoken");
    CHECK(t->source() == "tiktoken ranks");
    check_same_ids(*t, texts, llama3_ids, true);
    json doc = json::parse(slurp_bytes(out + "/llama3.tokenizer.json"));
    REQUIRE(t->vocab_size() == 128256);
    for (const json& added : doc["added_tokens"]) CHECK(t->token(added["id"].get<int32_t>()).text == added["content"]);
    CHECK(t->bos_id() == 128000);
  }
  SUBCASE("GGUF gpt2 vocabulary with llama-bpe pre-tokenizer") {
    std::string path = gguf_from_tokenizer_json(slurp_bytes(out + "/llama3.tokenizer.json"), out + "/llama3-vocab.gguf");
    auto t = load_tokenizer(path);
    CHECK(t->source() == "gguf gpt2");
    check_same_ids(*t, texts, llama3_ids, true);
    CHECK(t->encode("hi", {.add_bos = true}).front() == 128000);
  }
  SUBCASE("cl100k_base tiktoken ranks") {
    auto t = load_tokenizer(out + "/cl100k.tiktoken");
    check_same_ids(*t, texts, read_id_lines(out + "/cl100k.ids"), false);
  }
  fs::remove_all(out);
}

TEST_CASE("tokenizer: stories260K's GGUF vocabulary tokenizes as its llama2.c tokenizer.bin") {
  if (!fs::exists(kShared + "/stories260K.gguf") || !fs::exists(kShared + "/tok512.bin")) {
    MESSAGE("SKIPPED: " << kShared << " lacks stories260K.gguf or tok512.bin");
    return;
  }
  auto gguf = load_tokenizer(kShared + "/stories260K.gguf");
  auto bin = load_tokenizer(kShared + "/tok512.bin");
  CHECK(gguf->kind() == "sentencepiece");
  CHECK(gguf->source() == "gguf llama");
  CHECK(bin->source() == "llama2.c tokenizer.bin");
  REQUIRE(gguf->vocab_size() == bin->vocab_size());
  std::vector<std::string> texts = varied_texts();
  texts.push_back(slurp_bytes(kShared + "/expected_t0_n200.txt"));
  for (const std::string& text : texts) {
    CAPTURE(text);
    std::vector<int32_t> ids = gguf->encode(text, {.add_bos = true, .add_eos = true});
    CHECK(ids == bin->encode(text, {.add_bos = true, .add_eos = true}));
    CHECK(gguf->decode(ids) == text);
  }
  for (int32_t id = 0; id < gguf->vocab_size(); ++id)
    if (!gguf->is_special(id)) CHECK(gguf->piece(id) == bin->piece(id));
}

TEST_CASE("tokenizer: GPT-2 and Qwen2 pre-tokenizers cut where their regexes do") {
  auto cut = [](std::string_view text, PreTokenizer kind) {
    std::vector<std::string> out;
    for (std::string_view p : pre_tokenize(text, kind)) out.emplace_back(p);
    return out;
  };
  using V = std::vector<std::string>;
  CHECK(cut("Hello  world's 12345!!\n\n x", PreTokenizer::gpt2) ==
        V{"Hello", " ", " world", "'s", " 12345", "!!", "\n\n", " x"});
  CHECK(cut("I'LL 12345", PreTokenizer::gpt2) == V{"I", "'", "LL", " 12345"});  // case-sensitive there
  CHECK(cut("I'LL 12345", PreTokenizer::llama3) == V{"I", "'LL", " ", "123", "45"});
  CHECK(cut("I'LL 12345", PreTokenizer::qwen2) == V{"I", "'LL", " ", "1", "2", "3", "4", "5"});
  CHECK(cut("a \n\n  b", PreTokenizer::llama3) == V{"a", " \n\n", " ", " b"});
  CHECK(cut("x\xff\xfey", PreTokenizer::llama3) == V{"x", "\xff\xfe", "y"});
}

TEST_CASE("tokenizer: corrupt tokenizer files are errors naming the file and the problem") {
  std::string dir = (fs::temp_directory_path() / ("swebox-tok-bad-" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
    return dir + "/" + name;
  };
  // tiktoken: a bad line, a duplicate rank, missing bytes.
  CHECK(error_of([&] { load_tokenizer(write("a.tiktoken", "IQ== 0\nIg== x\n")); }).find("a.tiktoken: line 2: the rank") != std::string::npos);
  CHECK(error_of([&] { load_tokenizer(write("b.tiktoken", "IQ== 0\nIg== 0\n")); }).find("rank 0 appears twice") !=
        std::string::npos);
  CHECK(error_of([&] { load_tokenizer(write("c.tiktoken", "IQ== 0\n")); }).find("byte 0x00 has no token") !=
        std::string::npos);
  // tokenizer.json
  CHECK(error_of([&] { load_tokenizer(write("d.json", "{\"model\": ")); }).find("d.json: not valid JSON") != std::string::npos);
  CHECK(error_of([&] { load_tokenizer(write("e.json", R"({"model": {"type": "Unigram"}})")); })
            .find("model type \"Unigram\"") != std::string::npos);
  json vocab;
  for (int b = 0; b < 256; ++b) vocab[bytes_to_gpt2_spelling(std::string(1, static_cast<char>(b)))] = b;
  json doc = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"a zz"}}}}};
  CHECK(error_of([&] { load_tokenizer(write("f.json", doc.dump())); }).find("merge 0 \"a zz\": names a token") !=
        std::string::npos);
  doc["model"]["merges"] = json::array();
  auto ok = load_tokenizer(write("g.json", doc.dump()));
  CHECK(ok->encode("ab") == std::vector<int32_t>{'a', 'b'});
  // GGUF: truncated, a vocabulary with mismatched arrays, an unknown model.
  GgufWriter w;
  w.add_string("tokenizer.ggml.model", "llama");
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.add_float32s("tokenizer.ggml.scores", {0, 0, 0});
  std::string bytes = w.bytes();
  CHECK(error_of([&] { load_tokenizer(write("h.gguf", bytes)); }).find("tokenizer.ggml.scores has 3 entries for 4") !=
        std::string::npos);
  CHECK(error_of([&] { load_tokenizer(write("i.gguf", bytes.substr(0, bytes.size() / 2))); }).find(dir + "/i.gguf") ==
        0);
  GgufWriter u;
  u.add_string("tokenizer.ggml.model", "bert");
  u.add_strings("tokenizer.ggml.tokens", {"a"});
  CHECK(error_of([&] { load_tokenizer(write("j.gguf", u.bytes())); }).find("\"bert\" is not one swebox reads") !=
        std::string::npos);
  GgufWriter none;
  none.add_string("general.architecture", "llama");
  CHECK(error_of([&] { load_tokenizer(write("k.gguf", none.bytes())); }).find("carries no vocabulary") !=
        std::string::npos);
  CHECK(error_of([&] { load_tokenizer(write("l.txt", "plain text, no tokenizer")); }).find("not a tokenizer file") !=
        std::string::npos);
  fs::remove_all(dir);
}
