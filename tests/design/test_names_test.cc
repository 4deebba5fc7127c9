// Every doctest case is registered as its own CTest test, named "area:<case name>". CTest splits a
// name at ';' and runs the part before it as a filter, which matches no case: such a test "passes"
// without running anything. No test name may hold one.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<std::string> names_with_semicolons(const fs::path& tests) {
  std::vector<std::string> bad;
  static const std::regex test_case(R"re(TEST_CASE\s*\(\s*"((?:[^"\\]|\\.)*)")re");
  for (const auto& e : fs::recursive_directory_iterator(tests)) {
    if (!e.is_regular_file() || e.path().extension() != ".cc") continue;
    std::ifstream in(e.path());
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      ++n;
      std::smatch m;
      if (std::regex_search(line, m, test_case) && m[1].str().find(';') != std::string::npos)
        bad.push_back(e.path().filename().string() + ":" + std::to_string(n) + ": " + m[1].str());
    }
  }
  return bad;
}

}  // namespace

TEST_CASE("no test case name holds a semicolon, which would make CTest run nothing for it") {
  std::vector<std::string> bad = names_with_semicolons(fs::path(SWEBOX_SOURCE_DIR) / "tests");
  for (const std::string& b : bad) MESSAGE(b);
  CHECK(bad.empty());
}

TEST_CASE("the test name check finds a semicolon") {
  fs::path root = fs::temp_directory_path() / ("swebox-names-" + std::to_string(::getpid()));
  fs::create_directories(root / "x");
  std::ofstream(root / "x" / "a_test.cc") << "TEST_CASE(\"fine, this one\") {}\nTEST_CASE(\"first; second\") {}\n";
  std::vector<std::string> bad = names_with_semicolons(root);
  fs::remove_all(root);
  REQUIRE(bad.size() == 1);
  CHECK(bad[0] == "a_test.cc:2: first; second");
}
