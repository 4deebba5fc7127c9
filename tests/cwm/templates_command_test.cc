// `swebox templates import-cwm` through the built binary: its errors (no checkout, an output
// directory that is not empty), and with SWEBOX_CWM_DIR a real import that `swebox run
// --templates` can load.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../eval/command_run.h"

namespace fs = std::filesystem;
using swebox::eval_test::run;

namespace {
const std::string kSwebox = SWEBOX_BINARY;
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("swebox-templates-test-" + std::to_string(getpid()));
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};
bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("templates import-cwm: a directory that is not a CWM checkout is an error naming the missing file") {
  Scratch s;
  auto ran = run(kSwebox + " templates import-cwm " + s.dir.string() + " --out " + (s.dir / "out").string());
  CHECK(ran.status == 1);
  CHECK(contains(ran.output, "cwm/rl/envs/envs/swerl_tool.py"));
  CHECK(!fs::exists(s.dir / "out"));
  CHECK(run(kSwebox + " templates import-cwm").status == 2);  // usage: the checkout and --out are required
  CHECK(run(kSwebox + " templates --help").status == 0);
}

TEST_CASE("templates import-cwm: writes a loadable set, and refuses a directory that is not empty") {
  const char* cwm = std::getenv("SWEBOX_CWM_DIR");
  if (!cwm || !*cwm) {
    MESSAGE("skipped: SWEBOX_CWM_DIR is not set (a checkout of facebookresearch/cwm outside this repository)");
    return;
  }
  Scratch s;
  const std::string out = (s.dir / "set").string();
  auto ran = run(kSwebox + " templates import-cwm " + cwm + " --out " + out);
  REQUIRE(ran.status == 0);
  CHECK(fs::exists(s.dir / "set/prompts/system.txt"));
  CHECK(fs::exists(s.dir / "set/tools/edit_done.txt"));
  std::ofstream(s.dir / "set/keep.txt") << "mine";
  auto again = run(kSwebox + " templates import-cwm " + cwm + " --out " + out);
  CHECK(again.status == 1);
  CHECK(contains(again.output, "not empty"));
  CHECK(swebox::eval_test::read(s.dir / "set/keep.txt") == "mine");
  CHECK(run(kSwebox + " templates import-cwm " + cwm + " --out " + out + " --force").status == 0);
}
