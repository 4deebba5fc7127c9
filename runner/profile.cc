#include "runner/profile.h"

#include <stdexcept>

#include "runner/episode.h"
#include "runner/policy.h"

namespace swebox::runner {

const char* to_string(Profile p) {
  return p == Profile::cwm ? "cwm" : "swebox";
}

Profile parse_profile(std::string_view name) {
  if (name == "swebox") return Profile::swebox;
  if (name == "cwm") return Profile::cwm;
  throw std::invalid_argument("takes swebox or cwm, not '" + std::string(name) + "'");
}

void apply_profile(Profile p, EpisodeConfig& episode, PolicyOptions& policy) {
  episode.profile = p;
  policy.profile = p;
  switch (p) {
    case Profile::swebox:
      // Lenient, as mini-swe-agent: a format error is sent back; 3 in a row end the episode.
      episode.strict = false;
      episode.max_format_errors = 3;
      break;
    case Profile::cwm:
      // CWM trains strict; its non-strict mode sends every format error back, with no cap.
      episode.strict = true;
      episode.max_format_errors = 0;
      break;
  }
}

tools::ToolsetConfig toolset_config(const EpisodeConfig& episode) {
  tools::ToolsetConfig tc;
  tc.plugins = episode.plugins;
  tc.bash_timeout_s = episode.bash_timeout_s;
  switch (episode.profile) {
    case Profile::swebox: break;
    case Profile::cwm:
      // CWM's released backend and session (docs/formats.md §1.2, tools/toolset.h).
      tc.keep_final_newline = true;
      tc.shell_reads_stdin = true;
      tc.submit_through_shell = true;
      tc.edit_requires_utf8 = true;
      tc.create_normalised_parent = true;
      break;
  }
  tc.workspace = episode.workspace;
  return tc;
}

}  // namespace swebox::runner
