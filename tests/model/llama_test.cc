#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "model/generate.h"
#include "model/llama.h"
#include "model/tokenizer.h"

using namespace swebox::model;
namespace fs = std::filesystem;

namespace {

const std::string kStories = SWEBOX_SHARED_DIR "/models/stories260K";

bool have_stories() {
  for (const char* f : {"stories260K.bin", "stories260K.gguf", "tok512.bin", "expected_t0_n200.txt"})
    if (!fs::exists(kStories + "/" + f)) return false;
  return true;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What llama2.c's `run MODEL -t 0 -n 200` prints: the story then a newline.
std::string llama2c_greedy_text(const std::string& model_path, int positions) {
  LlamaWeights weights = load_weights(model_path);
  auto tokenizer = load_tokenizer(kStories + "/tok512.bin");
  LlamaSession session(weights, positions);
  Sampler greedy({});
  const int32_t bos = tokenizer->bos_id();
  const int32_t prompt[] = {bos};
  const int32_t stop[] = {bos};  // llama2.c ends a story at the next BOS
  std::string text;
  int32_t previous = bos;
  for (const GenerationStep& step : generate(session, prompt, positions, greedy, stop)) {
    text += tokenizer->decode_next(previous, step.token);
    previous = step.token;
  }
  return text + "\n";
}

}  // namespace

TEST_CASE("stories260K: the llama2.c checkpoint and the GGUF both print llama2.c's greedy story byte for byte") {
  if (!have_stories()) {
    MESSAGE("SKIPPED: stories260K files are absent from " << kStories);
    return;
  }
  const std::string expected = slurp(kStories + "/expected_t0_n200.txt");
  REQUIRE(expected.size() == 465);
  CHECK(llama2c_greedy_text(kStories + "/stories260K.bin", 200) == expected);
  CHECK(llama2c_greedy_text(kStories + "/stories260K.gguf", 200) == expected);
}

TEST_CASE("stories260K: the shape is read from each file, and both give the same logits") {
  if (!have_stories()) {
    MESSAGE("SKIPPED: stories260K files are absent from " << kStories);
    return;
  }
  LlamaWeights bin = load_weights(kStories + "/stories260K.bin");
  LlamaWeights gguf = load_weights(kStories + "/stories260K.gguf");
  for (const LlamaWeights* w : {&bin, &gguf}) {
    const LlamaConfig& c = w->config;
    CHECK(c.dim == 64);
    CHECK(c.hidden_dim == 172);
    CHECK(c.n_layers == 5);
    CHECK(c.n_heads == 8);
    CHECK(c.n_kv_heads == 4);  // grouped-query attention
    CHECK(c.vocab_size == 512);
    CHECK(c.head_dim == 8);
    CHECK(c.tied_output);
  }
  CHECK(bin.config.context_length == 512);
  CHECK(gguf.gguf != nullptr);
  LlamaSession a(bin, 16), b(gguf, 16);
  const int tokens[] = {1, 403, 407, 261, 378, 432, 383, 286};
  for (int pos = 0; pos < 8; ++pos) {
    const std::vector<float> la = a.forward(tokens[pos], pos);
    const std::vector<float>& lb = b.forward(tokens[pos], pos);
    REQUIRE(la.size() == 512);
    float worst = 0;
    for (size_t i = 0; i < la.size(); ++i) worst = std::max(worst, std::fabs(la[i] - lb[i]));
    INFO("position " << pos);
    CHECK(worst < 1e-4f);
  }
  CHECK_THROWS_WITH_AS(a.forward(512, 8), doctest::Contains("token 512 is outside the vocabulary of 512"), std::out_of_range);
  CHECK_THROWS_WITH_AS(a.forward(1, 16), doctest::Contains("position 16 is outside the context of 16"), std::out_of_range);
}

TEST_CASE("a truncated or corrupt llama2.c checkpoint is an error naming the file and the problem") {
  if (!have_stories()) {
    MESSAGE("SKIPPED: stories260K files are absent from " << kStories);
    return;
  }
  const std::string whole = slurp(kStories + "/stories260K.bin");
  const fs::path dir = fs::temp_directory_path() / ("swebox-llama2c-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto error_of = [&](const std::string& bytes) -> std::string {
    const std::string path = (dir / "m.bin").string();
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    try {
      (void)load_weights(path);
    } catch (const ModelError& e) {
      return e.what();
    }
    return "";
  };
  CHECK(error_of(whole.substr(0, whole.size() - 4)).find("bytes, but a llama2.c checkpoint of this header") != std::string::npos);
  CHECK(error_of(whole.substr(0, whole.size() - 4)).find("the file is truncated, corrupt") != std::string::npos);
  CHECK(error_of(whole.substr(0, 10)).find("too short for a llama2.c checkpoint's 28-byte header") != std::string::npos);
  CHECK(error_of(whole + "x").find("the file is truncated, corrupt") != std::string::npos);
  std::string bad = whole;
  const int32_t huge = 1 << 30;
  std::memcpy(bad.data(), &huge, 4);  // dim
  CHECK(error_of(bad).find("dim is 1073741824, not in 1..") != std::string::npos);
  bad = whole;
  const int32_t three = 3;
  std::memcpy(bad.data() + 16, &three, 4);  // 8 heads over 3 kv heads
  CHECK(error_of(bad).find("8 attention heads cannot share 3 key/value heads evenly") != std::string::npos);
  CHECK(error_of("ak42" + whole.substr(4)).find("versioned export format") != std::string::npos);
  CHECK_THROWS_WITH_AS(load_weights((dir / "absent.bin").string()), doctest::Contains("absent.bin: cannot open"), ModelError);
  fs::remove_all(dir);
}
