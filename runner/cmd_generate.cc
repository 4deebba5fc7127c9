// swebox generate: the embedded model (model/) continuing a prompt, printed as it is generated,
// as llama2.c's `run` prints it (the prompt, the continuation, a newline).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "model/generate.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "runner/command_line.h"

using swebox::runner::print_error;

int cmd_generate(int argc, char** argv) {
  using namespace swebox::runner;
  using namespace swebox::model;
  std::string model_path, tokenizer_path, prompt;
  int positions = 256;
  SamplingParams sampling;
  sampling.temperature = 1.0f;
  sampling.top_p = 0.9f;
  std::optional<uint64_t> seed;
  bool json = false;
  CLI::App app{"", "swebox generate"};
  describe_command(app,
                   "Continues a prompt with the embedded model (a GGUF file or a llama2.c checkpoint) on the CPU.\n"
                   "Prints the prompt and its continuation, then a newline (as llama2.c's run does); speed on stderr.",
                   {"swebox generate --model stories260K.bin --tokenizer tok512.bin -t 0 -n 200",
                    "swebox generate --model model.gguf --prompt 'def fib(n):' -n 128 -t 0.8 --seed 7",
                    "swebox generate --model model.gguf --prompt 'Once' --json"});
  app.add_option("--model", model_path, "the weights: GGUF (llama architecture) or a llama2.c .bin checkpoint")
      ->type_name("FILE")
      ->check(CLI::ExistingFile.description(""))
      ->required();
  app.add_option("--tokenizer", tokenizer_path,
                 "the tokenizer file (llama2.c tokenizer.bin, ...); default: the model file's own vocabulary")
      ->type_name("FILE")
      ->check(CLI::ExistingFile.description(""));
  app.add_option("--prompt", prompt, "the text to continue (BOS is added)")->type_name("TEXT");
  app.add_option("-n,--positions", positions, "positions in all, the prompt's included (capped at the context)")
      ->type_name("N")
      ->check(whole_number_at_least(1))
      ->capture_default_str();
  app.add_option("-t,--temperature", sampling.temperature, "0 is greedy")
      ->type_name("TEMP")
      ->check(number_at_least_zero())
      ->capture_default_str();
  app.add_option("--top-k", sampling.top_k, "sample among the k likeliest tokens (0: all)")
      ->type_name("K")
      ->check(whole_number_at_least(0))
      ->capture_default_str();
  app.add_option("--top-p", sampling.top_p, "nucleus sampling: the likeliest tokens holding this probability mass")
      ->type_name("P")
      ->check(fraction())
      ->capture_default_str();
  app.add_option("--seed", seed, "the sampler's seed (default: from the clock; printed on stderr)")->type_name("S");
  app.add_flag("--json", json, "print one JSON object instead: the generated text, its tokens and their log-probs, the prompt's tokens, the seed");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  if (sampling.top_p <= 0) {
    print_error("swebox generate: --top-p must be above 0, not %g\n", sampling.top_p);
    return 2;
  }
  sampling.seed = seed ? *seed : static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());

  LlamaWeights weights = load_weights(model_path);
  std::unique_ptr<Tokenizer> tokenizer;
  if (!tokenizer_path.empty()) {
    tokenizer = load_tokenizer(tokenizer_path);
  } else if (!weights.gguf) {
    throw std::runtime_error(model_path + " is a llama2.c checkpoint, which holds no vocabulary: pass --tokenizer "
                             "with its tokenizer.bin");
  } else {
    try {
      tokenizer = load_tokenizer(model_path);
    } catch (const TokenizerError& e) {
      throw std::runtime_error(std::string(e.what()) + " (reading the model file's vocabulary; --tokenizer FILE names another)");
    }
  }
  if (tokenizer->vocab_size() != weights.config.vocab_size)
    throw std::runtime_error("the tokenizer (" + tokenizer->source() + ") has " + std::to_string(tokenizer->vocab_size()) +
                             " tokens but the model " + std::to_string(weights.config.vocab_size) +
                             ": they do not belong together");
  std::vector<int32_t> prompt_tokens = tokenizer->encode(prompt, {.add_bos = true});
  if (prompt_tokens.empty()) throw std::runtime_error("the tokenizer has no BOS token to start the sequence with");
  std::vector<int32_t> stop;
  for (int32_t id : {tokenizer->bos_id(), tokenizer->eos_id()})
    if (id >= 0) stop.push_back(id);

  LlamaSession session(weights, positions);
  Sampler sampler(sampling);
  std::string text;
  int32_t previous = prompt_tokens[0];
  nlohmann::json tokens = nlohmann::json::array(), logprobs = nlohmann::json::array();
  const auto start = std::chrono::steady_clock::now();
  auto steps = generate(session, prompt_tokens, positions, sampler, stop, [&](const GenerationStep& step) {
    std::string piece = tokenizer->decode_next(previous, step.token);
    previous = step.token;
    if (json) {
      if (!step.from_prompt) {
        text += piece;
        tokens.push_back(step.token);
        logprobs.push_back(step.logprob);
      }
    } else {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (json) {
    nlohmann::json out = {{"prompt_tokens", prompt_tokens}, {"tokens", tokens}, {"logprobs", logprobs},
                          {"text", text}, {"seed", sampling.seed}};
    std::puts(out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fputc('\n', stdout);
  }
  const size_t forced = std::min(steps.size(), prompt_tokens.size() - 1);
  print_error("swebox generate: %zu tokens (%zu of the prompt) in %.3f s, %.1f tok/s, seed %llu\n",
               steps.size(), forced, seconds, seconds > 0 ? static_cast<double>(steps.size()) / seconds : 0.0,
               static_cast<unsigned long long>(sampling.seed));
  return 0;
}
