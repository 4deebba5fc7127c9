// Trajectory records (trajectories.jsonl lines: --resume, replay policies, export, score read them).
// Input: one record's JSON text.
// Properties: no crash; only std::exception subclasses for bad records; a record that loads
// writes back (to_json, dump_line) to one that loads to the same JSON; the exporters run on it.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "trajectories/export.h"
#include "trajectories/record.h"
#include "trajectories/writer.h"

using namespace swebox::traj;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(swebox::fuzz::as_text(data, size), nullptr, false);
  if (j.is_discarded()) return 0;
  Episode e;
  try {
    e = episode_from_json(j);
  } catch (const std::exception&) {
    return 0;
  }
  nlohmann::json out = to_json(e);
  std::string line = dump_line(out);
  Episode back = episode_from_json(nlohmann::json::parse(line));
  FUZZ_CHECK(dump_line(to_json(back)) == line);
  (void)e.messages();
  (void)e.resolved();
  (void)dump_line(to_prediction(e));
  (void)dump_line(to_chat_messages(e));
  (void)dump_line(to_mini_swe_agent(e));
  (void)dump_line(to_cwm_dump(e));
  (void)episode_key(e.instance_id, e.sample);
  return 0;
}
