// The differential test against CWM's own environment code (scripts/cwm_diff.py): CWM's SWE
// environment, run from a user's checkout of facebookresearch/cwm under Debian's python3, and
// `swebox run --profile cwm` replaying the same actions; every observation byte for byte and every
// termination must agree. Runs when SWEBOX_CWM_DIR names such a checkout (outside this repository;
// how to make one: the header of scripts/cwm_diff.py); skipped with a message otherwise.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../eval/command_run.h"

namespace {

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

const std::string kScript = std::string(SWEBOX_SOURCE_DIR) + "/scripts/cwm_diff.py";

}  // namespace

TEST_CASE("swebox --profile cwm against CWM's environment code: every observation and termination identical") {
  const char* cwm = std::getenv("SWEBOX_CWM_DIR");
  if (!cwm || !*cwm) {
    MESSAGE("skipped: SWEBOX_CWM_DIR is not set (point it at a checkout of facebookresearch/cwm outside this "
            "repository; see scripts/cwm_diff.py)");
    return;
  }
  auto ran = swebox::eval_test::run("/usr/bin/python3 " + quoted(kScript) + " --cwm " + quoted(cwm) + " --swebox " +
                                    quoted(SWEBOX_BINARY));
  if (ran.status == 77) {
    MESSAGE("skipped: " << ran.output);
    return;
  }
  INFO(ran.output);
  CHECK(ran.status == 0);
}

TEST_CASE("the differential test refuses a CWM checkout inside this repository") {
  // Nothing of CWM may be committed here: a checkout under the source tree is an error, not a run.
  const std::filesystem::path inside = std::filesystem::path(SWEBOX_SOURCE_DIR) / "build" / "cwm-inside-test";
  std::filesystem::create_directories(inside / "cwm/rl/envs/envs");
  { std::ofstream(inside / "cwm/rl/envs/envs/swerl_tool.py") << "# placeholder\n"; }
  auto ran = swebox::eval_test::run("/usr/bin/python3 " + quoted(kScript) + " --cwm " + quoted(inside.string()) +
                                    " --swebox " + quoted(SWEBOX_BINARY));
  std::filesystem::remove_all(inside);
  CHECK(ran.status == 2);
  CHECK(ran.output.find("inside this repository") != std::string::npos);
}

TEST_CASE("the differential test skips with a message when no CWM checkout is given") {
  auto ran = swebox::eval_test::run("env -u SWEBOX_CWM_DIR /usr/bin/python3 " + quoted(kScript) + " --swebox " +
                                    quoted(SWEBOX_BINARY));
  CHECK(ran.status == 77);
  CHECK(ran.output.find("SKIP: no CWM checkout given") != std::string::npos);
}
