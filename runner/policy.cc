#include "runner/policy.h"

namespace swebox::runner {

std::unique_ptr<Policy> make_policy(const std::string& spec, boost::asio::io_context& io,
                                    const PolicyOptions& options) {
  auto rest = [&](std::string_view prefix) { return spec.substr(prefix.size()); };
  if (spec == "oracle") return make_oracle_policy(io);
  if (spec.rfind("openai:", 0) == 0) return make_openai_policy(rest("openai:"), io, options);
  if (spec.rfind("replay:", 0) == 0) return make_replay_policy(rest("replay:"), io);
  if (spec.rfind("model:", 0) == 0) return make_model_policy(rest("model:"), io, options);
  throw PolicySpecError("unknown policy '" + spec +
                        "'; use one of: oracle, openai:URL[#model], replay:TRAJECTORIES.jsonl, model:PATH");
}

}  // namespace swebox::runner
