#include <doctest/doctest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "tasks/suite.h"
#include "tests/tasks/git_fixture.h"

using namespace swebox::tasks;
using swebox::tasks::testing::TempDir;
using swebox::tasks::testing::write_file;

namespace {
const char* kGood =
    R"({"repo":"acme/widget","instance_id":"acme__widget-1","base_commit":"0123abcd","patch":"p","test_patch":"tp",)"
    R"("problem_statement":"ps","hints_text":"","created_at":"2020-01-01T00:00:00Z","version":"1.0",)"
    R"("environment_setup_commit":"0123abcd","FAIL_TO_PASS":"[\"tests/test_a.py::test_x\"]",)"
    R"("PASS_TO_PASS":["tests/test_a.py::test_y","tests/test_a.py::test_z"],"eval_type":"fail_only",)"
    R"("difficulty":"<15 min fix","custom_field":{"k":1}})";

bool any_error_contains(const SuiteLoad& load, const std::string& text) {
  for (const auto& e : load.errors)
    if (e.find(text) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("suite reads every field, FAIL_TO_PASS as a JSON string and PASS_TO_PASS as a list") {
  TempDir tmp;
  write_file(tmp.path + "/s.jsonl", std::string(kGood) + "\n");
  auto load = load_suite(tmp.path + "/s.jsonl");
  REQUIRE(load.errors.empty());
  REQUIRE(load.instances.size() == 1);
  const auto& i = load.instances[0];
  CHECK(i.repo == "acme/widget");
  CHECK(i.repo_dir_name() == "acme__widget");
  CHECK(i.base_commit == "0123abcd");
  CHECK(i.FAIL_TO_PASS == std::vector<std::string>{"tests/test_a.py::test_x"});
  CHECK(i.PASS_TO_PASS == std::vector<std::string>{"tests/test_a.py::test_y", "tests/test_a.py::test_z"});
  CHECK(i.eval_type == "fail_only");
  CHECK(i.difficulty == "<15 min fix");
  CHECK(i.raw["custom_field"]["k"] == 1);  // unknown fields are kept
  CHECK(i.source == tmp.path + "/s.jsonl:1");
}

TEST_CASE("a malformed JSONL line is reported as FILE:LINE and the other lines still load") {
  TempDir tmp;
  std::string second = kGood;
  second.replace(second.find("acme__widget-1"), 14, "acme__widget-2");
  std::string path = tmp.path + "/s.jsonl";
  write_file(path, std::string(kGood) + "\n{\"repo\": \"acme/widget\", oops\n\n" +
                       R"({"repo":"acme/widget","instance_id":"acme__widget-9"})" + "\n" +
                       R"({"repo":"acme/widget","instance_id":"acme__widget-8","base_commit":"abcd","FAIL_TO_PASS":"not json"})" +
                       "\n" + second + "\n" + kGood + "\n");
  auto load = load_suite(path);
  REQUIRE(load.instances.size() == 2);
  CHECK(load.instances[0].instance_id == "acme__widget-1");
  CHECK(load.instances[1].instance_id == "acme__widget-2");
  CHECK(load.instances[1].source == path + ":6");
  REQUIRE(load.errors.size() == 4);
  CHECK(load.errors[0].rfind(path + ":2: invalid JSON", 0) == 0);
  CHECK(load.errors[1].rfind(path + ":4", 0) == 0);
  CHECK(load.errors[1].find("missing field \"base_commit\"") != std::string::npos);
  CHECK(load.errors[2].rfind(path + ":5", 0) == 0);
  CHECK(load.errors[2].find("FAIL_TO_PASS") != std::string::npos);
  CHECK(load.errors[3].rfind(path + ":7: duplicate instance_id acme__widget-1", 0) == 0);
}

TEST_CASE("a JSON array suite reports bad records by line and loads the rest") {
  TempDir tmp;
  std::string path = tmp.path + "/s.json";
  write_file(path, std::string("[\n  ") + kGood + ",\n  {\"repo\": 5,\n   \"instance_id\": \"x\"},\n  [1,2]\n]\n");
  auto load = load_suite(path);
  REQUIRE(load.instances.size() == 1);
  REQUIRE(load.errors.size() == 2);
  CHECK(load.errors[0].rfind(path + ":3 (x): field \"repo\" must be a string", 0) == 0);
  CHECK(load.errors[1].rfind(path + ":5: a task instance must be a JSON object", 0) == 0);
}

TEST_CASE("FAIL_TO_PASS and PASS_TO_PASS must be present: an explicit empty list is fine, absence is an error") {
  TempDir tmp;
  std::string path = tmp.path + "/s.jsonl";
  const std::string head = R"({"repo":"acme/widget","base_commit":"abcd","instance_id":)";
  write_file(path, head + R"("acme__widget-1","FAIL_TO_PASS":"[]","PASS_TO_PASS":[]})" + "\n" +
                       head + R"("acme__widget-2","PASS_TO_PASS":"[]"})" + "\n" +
                       head + R"("acme__widget-3","FAIL_TO_PASS":"[\"t\"]","PASS_TO_PASS":null})" + "\n" +
                       head + R"("acme__widget-4","FAIL_TO_PASS":"","PASS_TO_PASS":"[]"})" + "\n");
  auto load = load_suite(path);
  REQUIRE(load.instances.size() == 1);
  CHECK(load.instances[0].instance_id == "acme__widget-1");
  CHECK(load.instances[0].FAIL_TO_PASS.empty());
  REQUIRE(load.errors.size() == 3);
  CHECK(load.errors[0].find(":2 (acme__widget-2): missing field \"FAIL_TO_PASS\"") != std::string::npos);
  CHECK(load.errors[1].find(":3 (acme__widget-3): missing field \"PASS_TO_PASS\"") != std::string::npos);
  CHECK(load.errors[2].find("\"FAIL_TO_PASS\" is an empty string") != std::string::npos);
}

TEST_CASE("an instance_id that is not a folder name (a '/', . or ..) is a bad record") {
  TempDir tmp;
  std::string path = tmp.path + "/s.jsonl";
  const std::string tail = R"(,"repo":"acme/widget","base_commit":"abcd","FAIL_TO_PASS":[],"PASS_TO_PASS":[]})";
  write_file(path, R"({"instance_id":"../escape")" + tail + "\n" + R"({"instance_id":"..")" + tail + "\n" +
                       R"({"instance_id":"acme__widget-1")" + tail + "\n");
  auto load = load_suite(path);
  REQUIRE(load.instances.size() == 1);
  REQUIRE(load.errors.size() == 2);
  CHECK(load.errors[0].find("usable as a folder name") != std::string::npos);
  CHECK(load.errors[1].find("usable as a folder name") != std::string::npos);
}

TEST_CASE("a JSON object suite may be one record or a map from instance_id to record") {
  TempDir tmp;
  write_file(tmp.path + "/one.json", kGood);
  auto one = load_suite(tmp.path + "/one.json");
  CHECK(one.errors.empty());
  CHECK(one.instances.size() == 1);

  write_file(tmp.path + "/map.json", R"({"acme__widget-3": {"repo":"acme/widget","base_commit":"abcd","FAIL_TO_PASS":[],"PASS_TO_PASS":"[]"},
 "acme__widget-4": {"repo":"acme/widget","base_commit":"xyz"}})");
  auto map = load_suite(tmp.path + "/map.json");
  REQUIRE(map.instances.size() == 1);
  CHECK(map.instances[0].instance_id == "acme__widget-3");
  REQUIRE(map.errors.size() == 1);
  CHECK(map.errors[0].rfind(tmp.path + "/map.json:2 (acme__widget-4): field \"base_commit\"", 0) == 0);
}

TEST_CASE("an unterminated JSON array and a missing file are reported, not thrown") {
  TempDir tmp;
  write_file(tmp.path + "/cut.json", std::string("[") + kGood + ",\n{\"repo\":");
  auto cut = load_suite(tmp.path + "/cut.json");
  CHECK(cut.instances.size() == 1);
  CHECK(any_error_contains(cut, "unterminated array"));

  auto none = load_suite(tmp.path + "/absent.jsonl");
  CHECK(none.instances.empty());
  REQUIRE(none.errors.size() == 1);
  CHECK(none.errors[0].find("absent.jsonl: cannot open") != std::string::npos);
}

TEST_CASE("lines with invalid UTF-8 are reported in valid UTF-8, so the errors can go into JSON") {
  std::string text = std::string(kGood) + "\n{\"instance_id\": \"x\xff\xfe\", \"repo\": \"a/b\"}\n[\"\xc3\x28\"]\n";
  SuiteLoad load = parse_suite(text, "s.jsonl");
  CHECK(load.instances.size() == 1);
  REQUIRE(load.errors.size() == 2);
  CHECK(any_error_contains(load, "s.jsonl:2: invalid JSON"));
  CHECK(any_error_contains(load, "\xef\xbf\xbd"));  // U+FFFD for the bad bytes
  CHECK_NOTHROW((void)nlohmann::json(load.errors).dump());  // threw type_error 316 before
}

TEST_CASE("a number too large for a double is a reported bad line, not an uncaught exception") {
  // nlohmann throws out_of_range (406), not parse_error, on it; found by fuzz/suite.
  std::string text = std::string(kGood) + "\n{\"instance_id\": \"y\", \"created_at\": 88e504}\n";
  SuiteLoad load;
  REQUIRE_NOTHROW(load = parse_suite(text, "s.jsonl"));
  CHECK(load.instances.size() == 1);
  REQUIRE(load.errors.size() == 1);
  CHECK(any_error_contains(load, "s.jsonl:2: invalid JSON"));
  CHECK(any_error_contains(load, "number overflow"));
  SuiteLoad whole;
  REQUIRE_NOTHROW(whole = parse_suite("{\"a__b-1\": {\"repo\": \"a/b\", \"x\": 1e999}}", "s.json"));
  CHECK(whole.instances.empty());
  CHECK(!whole.errors.empty());
}

TEST_CASE("filter_instances keeps the requested ids in suite order and names unknown ones") {
  TempDir tmp;
  std::string lines;
  for (int n = 1; n <= 4; ++n) {
    std::string rec = kGood;
    rec.replace(rec.find("acme__widget-1"), 14, "acme__widget-" + std::to_string(n));
    lines += rec + "\n";
  }
  write_file(tmp.path + "/s.jsonl", lines);
  auto load = load_suite(tmp.path + "/s.jsonl");
  REQUIRE(load.instances.size() == 4);
  std::vector<std::string> missing;
  auto ids = parse_instance_ids("acme__widget-3, acme__widget-1 nope");
  auto kept = filter_instances(load.instances, ids, &missing);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].instance_id == "acme__widget-1");
  CHECK(kept[1].instance_id == "acme__widget-3");
  CHECK(missing == std::vector<std::string>{"nope"});
  write_file(tmp.path + "/ids.txt", "# wanted\nacme__widget-4\n\nacme__widget-2\n");
  CHECK(parse_instance_ids("@" + tmp.path + "/ids.txt") == std::vector<std::string>{"acme__widget-4", "acme__widget-2"});
  CHECK(filter_instances(load.instances, {}).size() == 4);
}

TEST_CASE("the shipped SWE-bench suites load without errors") {
  std::string dir = std::string(SWEBOX_SHARED_DIR) + "/data/swebench";
  if (!std::filesystem::exists(dir + "/lite.dev.jsonl")) {
    MESSAGE("skipped: " << dir << " is absent");
    return;
  }
  auto load = load_suite(dir + "/verified.test.jsonl");
  CHECK(load.errors.empty());
  CHECK(load.instances.size() == 500);
  auto it = std::find_if(load.instances.begin(), load.instances.end(),
                         [](const Instance& i) { return i.instance_id == "sympy__sympy-24661"; });
  REQUIRE(it != load.instances.end());
  CHECK(it->repo == "sympy/sympy");
  CHECK(!it->FAIL_TO_PASS.empty());
  CHECK(!it->difficulty.empty());
  CHECK(!it->eval_script.empty());
}
