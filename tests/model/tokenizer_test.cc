#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/sentencepiece.h"
#include "model/tokenizer.h"
#include "tokenizer_texts.h"

using namespace swebox::model;
namespace fs = std::filesystem;

namespace {

const std::string kShared = SWEBOX_SHARED_DIR "/models/stories260K";

using swebox::test::slurp_bytes;

std::vector<std::string> varied_texts() { return swebox::test::varied_texts_with_invalid_utf8(); }

// llama2.c's encode() compiled from a copy of karpathy/llama2.c, or "" with the reason in `why`.
std::string build_llama2c_peer(std::string& why) {
  const char* env = std::getenv("SWEBOX_LLAMA2C_DIR");
  std::string source = env ? env : "/work/.mirror/karpathy+llama2.c/repo";
  if (!fs::exists(source)) {
    why = "no copy of karpathy/llama2.c at " + source + " (set SWEBOX_LLAMA2C_DIR)";
    return "";
  }
  fs::path dir = fs::temp_directory_path() / ("swebox-llama2c-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // A git directory (a mirror) or a checkout.
  std::string get_run_c = fs::exists(fs::path(source) / "run.c")
                              ? "cp '" + source + "/run.c' '" + dir.string() + "/run.c'"
                              : "git --git-dir='" + source + "' show HEAD:run.c > '" + dir.string() + "/run.c'";
  std::string compile = get_run_c + " && cc -O1 -w -o '" + (dir / "encode").string() + "' -I'" + dir.string() +
                        "' '" SWEBOX_SOURCE_DIR "/tests/model/peers/llama2c_encode.c' -lm 2>&1";
  if (std::system(compile.c_str()) != 0) {
    why = "could not compile llama2.c's run.c from " + source;
    return "";
  }
  return (dir / "encode").string();
}

std::vector<std::vector<int32_t>> peer_encode(const std::string& peer, const std::string& tokenizer_bin,
                                              int vocab_size, const std::vector<std::string>& texts) {
  fs::path dir = fs::path(peer).parent_path();
  {
    std::ofstream out(dir / "texts", std::ios::binary);
    for (const std::string& t : texts) out << t << '\0';
  }
  std::string command = "'" + peer + "' '" + tokenizer_bin + "' " + std::to_string(vocab_size) + " '" +
                        (dir / "texts").string() + "' > '" + (dir / "ids").string() + "'";
  REQUIRE(std::system(command.c_str()) == 0);
  return swebox::test::read_id_lines((dir / "ids").string());
}

void check_against_llama2c(const std::string& tokenizer_bin, const std::vector<std::string>& texts) {
  std::string why;
  std::string peer = build_llama2c_peer(why);
  if (peer.empty()) {
    MESSAGE("SKIPPED: " << why);
    return;
  }
  auto ours = read_llama2c_tokenizer(tokenizer_bin);
  auto theirs = peer_encode(peer, tokenizer_bin, ours->vocab_size(), texts);
  REQUIRE(theirs.size() == texts.size());
  for (size_t i = 0; i < texts.size(); ++i) {
    CAPTURE(texts[i]);
    CHECK(ours->encode(texts[i], {.add_bos = true, .add_eos = true}) == theirs[i]);
  }
  fs::remove_all(fs::path(peer).parent_path());
}

}  // namespace

TEST_CASE("tokenizer: llama2.c tokenizer.bin of stories260K round-trips the reference story") {
  if (!fs::exists(kShared + "/tok512.bin")) {
    MESSAGE("SKIPPED: " << kShared << "/tok512.bin is absent");
    return;
  }
  auto tokenizer = read_llama2c_tokenizer(kShared + "/tok512.bin");
  CHECK(tokenizer->vocab_size() == 512);
  CHECK(tokenizer->bos_id() == 1);
  CHECK(tokenizer->eos_id() == 2);
  CHECK(tokenizer->kind() == "sentencepiece");
  CHECK(tokenizer->piece(3 + 'A') == "A");  // <0x41>
  CHECK(tokenizer->piece(13) == "\n");      // <0x0A>
  std::string story = slurp_bytes(kShared + "/expected_t0_n200.txt");
  REQUIRE(!story.empty());
  std::vector<int32_t> ids = tokenizer->encode(story, {.add_bos = true});
  CHECK(ids.front() == 1);
  // The reference generated 199 tokens after BOS; the canonical encoding of its text is near that
  // (a model need not emit the canonical merges); the ids themselves are checked against llama2.c below.
  CHECK(ids.size() > 150);
  CHECK(ids.size() < 250);
  CHECK(tokenizer->decode(ids) == story);
  // Streaming decode, as llama2.c prints: the dummy prefix dropped after BOS.
  std::string streamed;
  for (size_t i = 1; i < ids.size(); ++i) streamed += tokenizer->decode_next(ids[i - 1], ids[i]);
  CHECK(streamed == story);
  for (const std::string& text : varied_texts()) {
    CAPTURE(text);
    CHECK(tokenizer->decode(tokenizer->encode(text)) == text);
  }
  // The dummy prefix: "Lily" at the start is the token " Lily".
  auto lily = tokenizer->find(" Lily");
  REQUIRE(lily);
  CHECK(tokenizer->encode("Lily") == std::vector<int32_t>{*lily});
}

TEST_CASE("tokenizer: llama2.c tokenizer ids equal llama2.c's own encode") {
  if (!fs::exists(kShared + "/tok512.bin")) {
    MESSAGE("SKIPPED: " << kShared << "/tok512.bin is absent");
    return;
  }
  std::vector<std::string> texts = varied_texts();
  texts.push_back(slurp_bytes(kShared + "/expected_t0_n200.txt"));
  check_against_llama2c(kShared + "/tok512.bin", texts);
}

TEST_CASE("tokenizer: Llama 2's 32000-token tokenizer.bin equals llama2.c's own encode") {
  const char* env = std::getenv("SWEBOX_LLAMA2C_DIR");
  std::string source = env ? env : "/work/.mirror/karpathy+llama2.c/repo";
  fs::path bin = fs::temp_directory_path() / ("swebox-llama2-tokenizer-" + std::to_string(::getpid()) + ".bin");
  std::string get = fs::exists(fs::path(source) / "tokenizer.bin")
                        ? "cp '" + source + "/tokenizer.bin' '" + bin.string() + "'"
                        : "git --git-dir='" + source + "' show HEAD:tokenizer.bin > '" + bin.string() + "' 2>/dev/null";
  if (!fs::exists(source) || std::system(get.c_str()) != 0 || fs::file_size(bin) < 1000) {
    MESSAGE("SKIPPED: no llama2.c tokenizer.bin in a copy of karpathy/llama2.c at " << source);
    fs::remove(bin);
    return;
  }
  auto tokenizer = read_llama2c_tokenizer(bin.string());
  CHECK(tokenizer->vocab_size() == 32000);
  std::vector<std::string> texts = varied_texts();
  if (fs::exists(kShared + "/expected_t0_n200.txt")) texts.push_back(slurp_bytes(kShared + "/expected_t0_n200.txt"));
  texts.push_back(slurp_bytes(SWEBOX_SOURCE_DIR "/model/sentencepiece.cc"));  // real code, 10 kB
  check_against_llama2c(bin.string(), texts);
  for (const std::string& text : texts) {
    CAPTURE(text);
    CHECK(tokenizer->decode(tokenizer->encode(text)) == text);
  }
  fs::remove(bin);
}

TEST_CASE("tokenizer: a corrupt llama2.c tokenizer.bin is an error naming the problem") {
  auto header = [](int32_t max_length) { return std::string(reinterpret_cast<const char*>(&max_length), 4); };
  auto entry = [](float score, int32_t length, std::string text) {
    return std::string(reinterpret_cast<const char*>(&score), 4) +
           std::string(reinterpret_cast<const char*>(&length), 4) + text;
  };
  std::string good = header(8) + entry(0, 5, "<unk>") + entry(0, 3, "<s>") + entry(0, 4, "</s>") + entry(-1, 2, "ab");
  CHECK(parse_llama2c_tokenizer(good, "t.bin")->vocab_size() == 4);
  auto error_of = [](const std::string& bytes) {
    try {
      parse_llama2c_tokenizer(bytes, "t.bin");
    } catch (const TokenizerError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("") .find("t.bin: truncated: max_token_length") == 0);
  CHECK(error_of(header(0)).find("max_token_length 0") != std::string::npos);
  CHECK(error_of(good.substr(0, good.size() - 1)).find("truncated: token 3 text needs 2 bytes") != std::string::npos);
  CHECK(error_of(good.substr(0, good.size() - 4)).find("truncated: token 3 length") != std::string::npos);
  CHECK(error_of(header(8) + entry(0, 9, "123456789")).find("token 0 is 9 bytes long") != std::string::npos);
  CHECK(error_of(header(8) + entry(0, -1, "")).find("token 0 is -1 bytes long") != std::string::npos);
  CHECK(error_of(header(8) + entry(std::nanf(""), 1, "a")).find("token 0 has a score that is not a finite") !=
        std::string::npos);
  CHECK(error_of(header(8) + entry(0, 1, "a")).find("1 tokens") != std::string::npos);
  auto tokenizer = parse_llama2c_tokenizer(good, "t.bin");
  CHECK_THROWS_AS(tokenizer->piece(4), TokenizerError);
  CHECK_THROWS_AS(tokenizer->piece(-1), TokenizerError);
}
