// Shared by the eval area's end-to-end tests: the fixture suite (scripts/make-fixture-suite.sh)
// made into a fresh folder for this test process, and whether the native sandbox runs here.
#pragma once

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <string>

#include "command_run.h"
#include "sandbox/sandbox.h"

namespace swebox::eval_test {

struct FixtureSuite {
  std::filesystem::path root;      // TMP/<prefix><pid>: everything the tests write
  std::filesystem::path fixtures;  // root/fixtures: suite.jsonl, bad-suite.jsonl, repos/
  std::filesystem::path cache;     // root/cache: base trees
  std::string skip;                // why the tests cannot run here ("" = they can)

  explicit FixtureSuite(const std::string& prefix) {
    root = std::filesystem::temp_directory_path() / (prefix + std::to_string(getpid()));
    std::filesystem::create_directories(root);
    fixtures = root / "fixtures";
    cache = root / "cache";
    Ran made = run(std::string(SWEBOX_SOURCE_DIR) + "/scripts/make-fixture-suite.sh " + fixtures.string());
    if (made.status != 0) {
      skip = "make-fixture-suite.sh failed: " + made.output;
      return;
    }
    try {
      boost::asio::io_context io;
      auto box = sandbox::make_sandbox(io, sandbox::Config{});
      sandbox::ExecRequest req;
      req.argv = {"/bin/true"};
      req.timeout_s = 30;
      if (auto r = box->exec(req); r.status() != 0) skip = "the native sandbox cannot run /bin/true here: " + r.detail;
    } catch (const std::exception& e) {
      skip = std::string("the native sandbox is not available here: ") + e.what();
    }
  }
  ~FixtureSuite() {
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }
  FixtureSuite(const FixtureSuite&) = delete;
  FixtureSuite& operator=(const FixtureSuite&) = delete;

  std::filesystem::path repos() const { return fixtures / "repos"; }
  std::filesystem::path suite() const { return fixtures / "suite.jsonl"; }
  std::filesystem::path bad_suite() const { return fixtures / "bad-suite.jsonl"; }
};

}  // namespace swebox::eval_test

// In a test case: returns, saying why, when this file's fixture() (a FixtureSuite) cannot run here.
#define SKIP_UNLESS_READY()                   \
  do {                                        \
    if (!fixture().skip.empty()) {            \
      MESSAGE("skipped: " << fixture().skip); \
      return;                                 \
    }                                         \
  } while (0)
