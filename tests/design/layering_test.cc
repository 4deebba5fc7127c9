// The folders are the design (README.md, "Layout"): a folder includes only its own headers and
// those of the folders below it. This test reads every source file of the libraries and fails on
// an include that points upward, naming the file, the line and the rule.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

namespace {

// folder -> the folders of ours it may include (besides itself).
const std::map<std::string, std::set<std::string>> kMayInclude = {
    {"sandbox", {}},
    {"trajectories", {}},
    {"model", {}},
    {"tools", {"sandbox"}},
    {"tasks", {"sandbox", "trajectories"}},
    {"runner", {"sandbox", "trajectories", "model", "tools", "tasks"}},
};

// Every include of one of our folders in `root`'s library sources, as "file:line: folder".
std::vector<std::string> upward_includes(const std::string& root) {
  std::vector<std::string> bad;
  static const std::regex include(R"re(^\s*#\s*include\s*"([a-z_]+)/)re");
  for (const auto& [folder, allowed] : kMayInclude) {
    fs::path dir = fs::path(root) / folder;
    if (!fs::exists(dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".cc" && ext != ".h" && ext != ".cu" && ext != ".cuh")) continue;
      std::ifstream in(e.path());
      int n = 0;
      for (std::string line; std::getline(in, line);) {
        ++n;
        std::smatch m;
        if (!std::regex_search(line, m, include)) continue;
        std::string target = m[1];
        if (target == folder || !kMayInclude.count(target) || allowed.count(target)) continue;
        bad.push_back(fs::relative(e.path(), root).string() + ":" + std::to_string(n) + ": " + folder +
                      "/ may not include " + target + "/");
      }
    }
  }
  return bad;
}

}  // namespace

TEST_CASE("no library folder includes a folder above it") {
  std::vector<std::string> bad = upward_includes(SWEBOX_SOURCE_DIR);
  for (const std::string& b : bad) MESSAGE(b);
  CHECK(bad.empty());
}

TEST_CASE("the layering check finds an upward include") {
  // The check itself must be able to fail: a throwaway tree with tasks/ including runner/.
  fs::path root = fs::temp_directory_path() / ("swebox-layering-" + std::to_string(::getpid()));
  fs::create_directories(root / "tasks");
  fs::create_directories(root / "runner");
  std::ofstream(root / "tasks" / "x.cc") << "#include \"sandbox/sandbox.h\"\n#include \"runner/episode.h\"\n";
  std::ofstream(root / "runner" / "y.cc") << "#include \"tasks/x.h\"\n";
  std::vector<std::string> bad = upward_includes(root.string());
  fs::remove_all(root);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0] == "tasks/x.cc:2: tasks/ may not include runner/");
}
