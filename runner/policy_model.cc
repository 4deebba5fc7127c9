// model:PATH[?tokenizer=FILE]: the embedded engine (model/) as a policy. The weights are loaded
// once and shared read-only by every episode; each request is the conversation rendered in CWM's
// framing, tokenized (special tokens as such) and continued on a thread of its own with a KV
// cache of its own, and the action (text, tokens, log-probs) is handed back on the io_context.
// Not yet: batching of concurrent requests, reuse of the shared prompt prefix, grammar masking.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <functional>
#include <thread>

#include "model/generate.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "runner/policy.h"

namespace swebox::runner {

namespace {

struct Engine {
  std::string path;
  std::string tokenizer_path;  // where the tokenizer was read: ?tokenizer=FILE, or the GGUF itself
  model::LlamaWeights weights;
  std::unique_ptr<model::Tokenizer> tokenizer;
  model::SamplingParams sampling;
  int max_tokens = 1024;
  std::vector<std::string> stop_strings;
  std::vector<int32_t> stop_tokens;  // EOS, <|eot_id|>, <|end_of_text|> where the vocabulary has them

  // One completion of `prompt`; throws PolicyError-worthy conditions as std::length_error.
  traj::Action complete(const std::string& prompt, uint64_t seed) const {
    std::vector<int32_t> ids = tokenizer->encode(prompt, {.parse_special = true});
    if (tokenizer->bos_id() >= 0 && (ids.empty() || ids.front() != tokenizer->bos_id()))
      ids.insert(ids.begin(), tokenizer->bos_id());
    const int context = weights.config.context_length;
    if (ids.size() >= static_cast<size_t>(context))
      throw std::length_error("the prompt is " + std::to_string(ids.size()) + " tokens, the model's context " +
                              std::to_string(context));
    // The last prompt token's position yields the first new token: prompt - 1 + max_tokens positions.
    const int positions = static_cast<int>(std::min<int64_t>(context, static_cast<int64_t>(ids.size()) - 1 + max_tokens));
    model::LlamaSession session(weights, positions);
    model::SamplingParams params = sampling;
    params.seed = seed;
    model::Sampler sampler(params);
    traj::Action a;
    int32_t previous = ids.back();
    bool stopped_by_string = false;
    auto steps = model::generate(session, ids, positions, sampler, stop_tokens, [&](const model::GenerationStep& step) {
      if (step.from_prompt) return true;
      a.text += tokenizer->decode_next(previous, step.token);
      previous = step.token;
      a.tokens.push_back(step.token);
      a.logprobs.push_back(step.logprob);
      for (const std::string& stop : stop_strings)
        if (size_t at = a.text.find(stop); at != std::string::npos) {
          a.text.resize(at);  // as OpenAI servers do: the stop string is not part of the reply
          stopped_by_string = true;
          return false;
        }
      return true;
    });
    const bool hit_length = static_cast<int>(steps.size()) >= positions && !stopped_by_string;
    a.finish_reason = hit_length ? "length" : "stop";
    a.usage.prompt_tokens = static_cast<int64_t>(ids.size());
    a.usage.completion_tokens = static_cast<int64_t>(a.tokens.size());
    a.usage.api_calls = 1;
    return a;
  }
};

class ModelSession : public PolicySession {
 public:
  ModelSession(boost::asio::io_context& io, std::shared_ptr<const Engine> engine, uint64_t seed)
      : io_(io), engine_(std::move(engine)), seed_(seed) {}

  void async_next(const traj::Episode& so_far, ActionHandler done) override {
    // A seed per episode and turn: sampled episodes differ, and a rerun repeats them.
    const uint64_t seed = seed_ * 0x9e3779b97f4a7c15ull + calls_++;
    // The context exactly as recorded (prompt text, actions, observations), as the openai policy's
    // completions send it: the model continues what the trajectory says it saw.
    std::thread([engine = engine_, prompt = so_far.context_text(), seed, done = std::move(done),
                 &io = io_, work = boost::asio::make_work_guard(io_)]() mutable {
      std::optional<PolicyError> err;
      traj::Action action;
      try {
        action = engine->complete(prompt, seed);
      } catch (const std::length_error& e) {
        err = PolicyError{PolicyError::Kind::context_exceeded, e.what()};
      } catch (const std::exception& e) {
        err = PolicyError{PolicyError::Kind::other, "model " + engine->path + ": " + e.what()};
      }
      boost::asio::post(io, [done = std::move(done), err = std::move(err), action = std::move(action)]() mutable {
        done(std::move(err), std::move(action));
      });
      work.reset();
    }).detach();
  }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<const Engine> engine_;
  uint64_t seed_;
  uint64_t calls_ = 0;
};

class ModelPolicy : public Policy {
 public:
  ModelPolicy(boost::asio::io_context& io, std::shared_ptr<const Engine> engine) : io_(io), engine_(std::move(engine)) {}
  std::unique_ptr<PolicySession> start(const EpisodeStart& start) override {
    const uint64_t seed = engine_->sampling.seed ^ std::hash<std::string>{}(start.instance.instance_id) ^
                          (static_cast<uint64_t>(start.sample) << 32);
    return std::make_unique<ModelSession>(io_, engine_, seed);
  }
  std::string model_name() const override { return engine_->path; }
  std::string tokenizer_file() const override { return engine_->tokenizer_path; }
  nlohmann::json sampling() const override {
    const model::SamplingParams& s = engine_->sampling;
    return {{"temperature", s.temperature}, {"top_p", s.top_p}, {"top_k", s.top_k}, {"seed", s.seed},
            {"max_tokens", engine_->max_tokens}};
  }

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<const Engine> engine_;
};

}  // namespace

std::unique_ptr<Policy> make_model_policy(const std::string& spec, boost::asio::io_context& io,
                                          const PolicyOptions& options) {
  auto engine = std::make_shared<Engine>();
  std::string tokenizer_path;
  engine->path = spec;
  if (size_t q = spec.find('?'); q != std::string::npos) {
    engine->path = spec.substr(0, q);
    const std::string query = spec.substr(q + 1);
    if (query.rfind("tokenizer=", 0) != 0 || query.size() == 10)
      throw PolicySpecError("policy 'model:" + spec + "': unknown option '" + query +
                            "' (the form is model:PATH[?tokenizer=FILE])");
    tokenizer_path = query.substr(10);
  }
  if (engine->path.empty()) throw PolicySpecError("policy 'model:': no model file (the form is model:PATH[?tokenizer=FILE])");
  try {
    engine->weights = model::load_weights(engine->path);
    if (tokenizer_path.empty() && engine->weights.gguf) tokenizer_path = engine->path;
    if (!tokenizer_path.empty()) engine->tokenizer = model::load_tokenizer(tokenizer_path);
    else
      throw std::runtime_error("a llama2.c checkpoint holds no vocabulary: name its tokenizer.bin with ?tokenizer=FILE");
    if (engine->tokenizer->vocab_size() != engine->weights.config.vocab_size)
      throw std::runtime_error("the tokenizer has " + std::to_string(engine->tokenizer->vocab_size()) +
                               " tokens, the model " + std::to_string(engine->weights.config.vocab_size));
    const nlohmann::json& s = options.sampling.is_object() ? options.sampling : nlohmann::json::object();
    engine->sampling.temperature = s.value("temperature", 0.0f);
    engine->sampling.top_p = s.value("top_p", 1.0f);
    engine->sampling.top_k = s.value("top_k", 0);
    engine->sampling.seed = s.value("seed", uint64_t{0});
    engine->max_tokens = s.value("max_tokens", 1024);
    if (engine->max_tokens < 1) throw std::runtime_error("max_tokens must be at least 1");
    if (auto stop = s.find("stop"); stop != s.end()) {
      if (stop->is_string()) engine->stop_strings.push_back(stop->get<std::string>());
      else if (stop->is_array())
        for (const auto& v : *stop)
          if (v.is_string()) engine->stop_strings.push_back(v.get<std::string>());
    }
    engine->tokenizer_path = tokenizer_path;
    model::Sampler check(engine->sampling);  // refuses bad parameters now, not per request
    for (int32_t id : {engine->tokenizer->eos_id()})
      if (id >= 0) engine->stop_tokens.push_back(id);
    for (const char* name : {"<|eot_id|>", "<|end_of_text|>", "<|im_end|>"})
      if (auto id = engine->tokenizer->find(name); id && engine->tokenizer->is_special(*id))
        engine->stop_tokens.push_back(*id);
  } catch (const PolicySpecError&) {
    throw;
  } catch (const std::exception& e) {
    throw PolicySpecError("policy 'model:" + spec + "': " + e.what());
  }
  return std::make_unique<ModelPolicy>(io, std::move(engine));
}

}  // namespace swebox::runner
