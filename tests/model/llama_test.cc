#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "model/generate.h"
#include "model/llama.h"
#include "model/synthetic_model.h"
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

namespace {

LlamaWeights load_bytes(const std::string& bytes, const std::string& name = "synthetic.gguf") {
  return load_gguf_weights(std::make_shared<const Gguf>(Gguf::parse(MappedFile::from_bytes(bytes), name)));
}

std::string model_error(const std::string& bytes) {
  try {
    (void)load_bytes(bytes);
  } catch (const ModelError& e) {
    return e.what();
  }
  return "";
}

// Greedy continuation of a fixed prompt, and the logits at every position.
struct Run {
  std::vector<int32_t> tokens;
  std::vector<std::vector<float>> logits;
};
Run greedy_run(const LlamaWeights& w, int positions) {
  LlamaSession session(w, positions);
  Run run;
  int32_t token = 3;
  for (int pos = 0; pos < positions; ++pos) {
    const std::vector<float>& logits = session.forward(token, pos);
    run.logits.push_back(logits);
    token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    run.tokens.push_back(token);
  }
  return run;
}

}  // namespace

TEST_CASE("a synthetic GGUF's shape comes from its metadata: GQA, separate or tied classifier") {
  SyntheticLlama shape;
  shape.dim = 96;
  shape.n_heads = 6;
  shape.n_kv_heads = 2;
  shape.hidden_dim = 160;
  shape.n_layers = 3;
  shape.vocab_size = 200;
  shape.rope_theta = 500000.0f;
  for (bool tied : {false, true}) {
    shape.tied_output = tied;
    LlamaWeights w = load_bytes(synthetic_llama(shape).bytes());
    CHECK(w.config.dim == 96);
    CHECK(w.config.head_dim == 16);
    CHECK(w.config.n_kv_heads == 2);
    CHECK(w.config.n_layers == 3);
    CHECK(w.config.vocab_size == 200);
    CHECK(w.config.rope_theta == 500000.0f);
    CHECK(w.config.tied_output == tied);
    CHECK((w.output.data == w.token_embedding.data) == tied);
    Run run = greedy_run(w, 12);
    // Random weights: the continuation is not one token repeated (tied to a random embedding, a
    // token's own row dominates its logits through the residual stream, so it may repeat).
    if (!tied) CHECK(std::set<int32_t>(run.tokens.begin(), run.tokens.end()).size() > 2);
  }
}

TEST_CASE("every weight type: a model computes what the same values stored as F32 compute") {
  // Weights dequantized per row inside the dot products give the logits of an F32 file holding
  // exactly those values (summation order aside), and the same greedy tokens.
  for (TensorType type : {TensorType::f16, TensorType::bf16, TensorType::q8_0, TensorType::q4_0, TensorType::q4_k,
                          TensorType::q6_k}) {
    CAPTURE(tensor_type_name(static_cast<uint32_t>(type)));
    SyntheticLlama shape;
    shape.dim = 256;  // the K-quants' blocks are 256 long
    shape.hidden_dim = 512;
    shape.n_heads = 4;
    shape.n_kv_heads = 1;
    shape.n_layers = 2;
    shape.vocab_size = 96;
    shape.seed = 11;
    shape.weight_type = type;
    LlamaWeights quantized = load_bytes(synthetic_llama(shape).bytes());
    CHECK(quantized.layers[0].wq.type == type);
    CHECK(quantized.token_embedding.type == type);
    shape.weight_type = TensorType::f32;
    shape.values_of = type;
    LlamaWeights plain = load_bytes(synthetic_llama(shape).bytes());
    Run a = greedy_run(quantized, 10), b = greedy_run(plain, 10);
    CHECK(a.tokens == b.tokens);
    float worst = 0, scale = 0;
    for (size_t p = 0; p < a.logits.size(); ++p)
      for (size_t i = 0; i < a.logits[p].size(); ++i) {
        worst = std::max(worst, std::fabs(a.logits[p][i] - b.logits[p][i]));
        scale = std::max(scale, std::fabs(b.logits[p][i]));
      }
    CHECK(worst <= 1e-4f * scale);
    // ... and differs from the unquantized model only by the quantization's error.
    shape.values_of.reset();
    Run f32 = greedy_run(load_bytes(synthetic_llama(shape).bytes()), 10);
    CHECK(f32.logits[0] != a.logits[0]);
  }
}

TEST_CASE("a GGUF that is not a usable llama model is an error naming the tensor or key") {
  SyntheticLlama shape;
  const std::string good = synthetic_llama(shape).bytes();
  CHECK_NOTHROW(load_bytes(good));
  auto replaced = [&](const std::string& from, const std::string& to) {
    REQUIRE(from.size() == to.size());
    std::string s = good;
    const size_t at = s.find(from);
    REQUIRE(at != std::string::npos);
    s.replace(at, from.size(), to);
    return s;
  };
  CHECK(model_error(replaced(std::string("\x05\0\0\0\0\0\0\0llama", 13), std::string("\x05\0\0\0\0\0\0\0gemma", 13)))
            .find("architecture 'gemma' is not supported yet") != std::string::npos);
  CHECK(model_error(replaced("output_norm.weight", "output_norm.weighX"))
            .find("tensor 'output_norm.weight' is missing") != std::string::npos);
  CHECK(model_error(replaced("llama.block_count", "llama.block_counX"))
            .find("metadata 'llama.block_count' is missing") != std::string::npos);
  // blk.0.attn_k.weight: dims [64, 32] (dim 64, 2 kv heads of 16) read as [32, 64]: same size, wrong shape.
  std::string name = "blk.0.attn_k.weight";
  std::string dims = std::string("\x02\0\0\0", 4) + std::string("\x40\0\0\0\0\0\0\0", 8) + std::string("\x20\0\0\0\0\0\0\0", 8);
  CHECK(model_error(replaced(name + dims, name + std::string("\x02\0\0\0", 4) + std::string("\x20\0\0\0\0\0\0\0", 8) +
                                              std::string("\x40\0\0\0\0\0\0\0", 8)))
            .find("tensor 'blk.0.attn_k.weight' has shape [32, 64], expected [64, 32]") != std::string::npos);
  // The same tensor typed I32 (the same size): a type the kernels cannot compute with.
  CHECK(model_error(replaced(name + dims + std::string("\0\0\0\0", 4), name + dims + std::string("\x1a\0\0\0", 4)))
            .find("tensor 'blk.0.attn_k.weight' is I32, which this engine cannot compute with") != std::string::npos);
  // 4 heads cannot share 3 key/value heads; a head count of 0 is no model.
  const std::string kv = "llama.attention.head_count_kv" + std::string("\x04\0\0\0", 4);
  CHECK(model_error(replaced(kv + std::string("\x02\0\0\0", 4), kv + std::string("\x03\0\0\0", 4)))
            .find("4 attention heads cannot share 3 key/value heads evenly") != std::string::npos);
  CHECK(model_error(replaced(kv + std::string("\x02\0\0\0", 4), kv + std::string("\0\0\0\0", 4)))
            .find("metadata 'llama.attention.head_count_kv' is 0, not in 1..") != std::string::npos);
}
