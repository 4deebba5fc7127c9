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

std::string render_cwm_prompt(const std::vector<traj::Message>& messages) {
  std::string s = "<|begin_of_text|>";
  for (const traj::Message& m : messages)
    s += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
  s += "<|start_header_id|>assistant<|end_header_id|>\n\n";
  return s;
}

}  // namespace swebox::runner
