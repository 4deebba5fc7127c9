// `swebox eval --backend docker` in SWE-bench's per-instance images, as SWE-bench evaluates there:
// fixture instances (scripts/make-fixture-suite.sh) in images of SWE-bench's layout built locally
// by scripts/make-swebench-image.sh (nothing is pulled), the real swebox binary, reports read back
// from disk. Without a Docker daemon each case says it skipped (docker_sandbox_test.cc fails that
// under SWEBOX_REQUIRE_DOCKER=1); a daemon that answers but cannot build the images is a failure.
#include <doctest/doctest.h>

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "../eval/command_run.h"
#include "sandbox/docker_api.h"

namespace fs = std::filesystem;
using namespace swebox::eval_test;

namespace {

constexpr const char* kCalc1 = "swebox-fixtures__calc-1";  // carries SWE-bench's eval_script
constexpr const char* kCalc2 = "swebox-fixtures__calc-2";  // has none: SWE-bench's is built
constexpr const char* kLocalTemplate = "sweb.eval.{arch}.{instance_id_lower}:latest";

// SWE-bench's arch in image names, as make-swebench-image.sh tags them.
std::string arch() {
  utsname u{};
  uname(&u);
  std::string m = u.machine;
  return m == "aarch64" || m == "arm64" ? "arm64" : "x86_64";
}

struct ImageFixture {
  fs::path root;
  std::string skip;     // no daemon: the cases say so and return
  std::string failure;  // a daemon answers but the images could not be made: the cases fail

  ImageFixture() {
    if (!swebox::sandbox::docker_api::Client().ping(2)) {
      skip = "no Docker daemon answers at /var/run/docker.sock (scripts/start-dockerd.sh starts one)";
      return;
    }
    root = fs::temp_directory_path() / ("swebox-swebench-image-test-" + std::to_string(getpid()));
    fs::create_directories(root);
    std::string scripts = std::string(SWEBOX_SOURCE_DIR) + "/scripts/";
    Ran made = run(scripts + "make-fixture-suite.sh " + (root / "fixtures").string());
    if (made.status != 0) {
      failure = "make-fixture-suite.sh failed: " + made.output;
      return;
    }
    made = run(scripts + "make-swebench-image.sh " + (root / "fixtures").string() + " " + kCalc1 + " " + kCalc2);
    if (made.status != 0) failure = "make-swebench-image.sh failed: " + made.output;
  }
  ~ImageFixture() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }

  fs::path suite() const { return root / "fixtures" / "suite.jsonl"; }
  nlohmann::json record(const std::string& id) const {
    std::ifstream in(suite());
    for (std::string line; std::getline(in, line);)
      if (!line.empty() && nlohmann::json::parse(line)["instance_id"] == id) return nlohmann::json::parse(line);
    return nullptr;
  }
  // `swebox eval --backend docker`, no --repos, writing into OUT.
  Ran eval(const std::string& out, const std::string& args) const {
    return run(std::string(SWEBOX_BINARY) + " eval --backend docker --out " + (root / out).string() + " " + args);
  }
  fs::path report_dir(const std::string& out, const std::string& run_id, const std::string& id) const {
    return root / out / run_id / run_id / id;
  }
  nlohmann::json report(const std::string& out, const std::string& run_id, const std::string& id) const {
    return read_json(report_dir(out, run_id, id) / "report.json").at(id);
  }
};

const ImageFixture& fixture() {
  static ImageFixture f;
  return f;
}

#define SKIP_WITHOUT_IMAGES()                                      \
  do {                                                             \
    if (!fixture().skip.empty()) {                                 \
      MESSAGE("skipped: " << fixture().skip);                      \
      return;                                                      \
    }                                                              \
    REQUIRE_MESSAGE(fixture().failure.empty(), fixture().failure); \
  } while (0)

nlohmann::json strings(std::initializer_list<const char*> items) {
  nlohmann::json a = nlohmann::json::array();
  for (const char* s : items) a.push_back(s);
  return a;
}

}  // namespace

TEST_CASE("in SWE-bench's instance image, gold resolves and empty does not, the eval script run as it is") {
  SKIP_WITHOUT_IMAGES();
  const auto& f = fixture();
  std::string args = "--suite " + f.suite().string() + " --instances " + kCalc1 + " --image-template '" +
                     kLocalTemplate + "' --timeout 300";
  Ran gold = f.eval("images", args + " --predictions gold");
  INFO(gold.output);
  REQUIRE(gold.status == 0);
  nlohmann::json rep = f.report("images", "gold", kCalc1);
  CHECK(rep["patch_successfully_applied"] == true);
  CHECK(rep["resolved"] == true);
  CHECK(rep["infra_failure"] == false);
  CHECK(rep["tests_status"]["FAIL_TO_PASS"]["success"] == strings({"tests/test_ops.py::test_mul_negative"}));
  CHECK(rep["tests_status"]["FAIL_TO_PASS"]["failure"].empty());
  CHECK(rep["tests_status"]["PASS_TO_PASS"]["success"] ==
        strings({"tests/test_ops.py::test_add", "tests/test_ops.py::test_sub", "tests/test_ops.py::test_mul_positive",
                 "tests/test_ops.py::test_div"}));
  CHECK(rep["tests_status"]["PASS_TO_PASS"]["failure"].empty());
  CHECK(rep["audit"]["image"] == "sweb.eval." + arch() + ".swebox-fixtures__calc-1:latest");
  fs::path dir = f.report_dir("images", "gold", kCalc1);
  // The instance's own script, byte for byte; conda activated as the image defines it.
  CHECK(read(dir / "eval.sh") == f.record(kCalc1)["eval_script"].get<std::string>());
  std::string log = read(dir / "test_output.txt");
  CHECK(log.find("+ source /opt/miniconda3/bin/activate\n") != std::string::npos);
  CHECK(log.find("+ conda activate testbed\n") != std::string::npos);
  CHECK(log.find("CONDA_DEFAULT_ENV=testbed") != std::string::npos);
  CHECK(log.find("rootdir: /testbed") != std::string::npos);
  CHECK(log.find("PASSED tests/test_ops.py::test_mul_negative") != std::string::npos);
  std::string run_log = read(dir / "run_instance.log");
  CHECK(run_log.find("Applied Patch (git apply --verbose)") != std::string::npos);
  CHECK(run_log.find("instance eval_script, unmodified") != std::string::npos);

  Ran empty = f.eval("images", args + " --predictions empty");
  INFO(empty.output);
  REQUIRE(empty.status == 0);
  rep = f.report("images", "empty", kCalc1);
  CHECK(rep["patch_exists"] == false);
  CHECK(rep["resolved"] == false);
  CHECK(rep["infra_failure"] == false);
  CHECK(rep["tests_status"]["FAIL_TO_PASS"]["success"].empty());
  CHECK(rep["tests_status"]["FAIL_TO_PASS"]["failure"] == strings({"tests/test_ops.py::test_mul_negative"}));
  CHECK(rep["tests_status"]["PASS_TO_PASS"]["success"].size() == 4);
  CHECK(rep["tests_status"]["PASS_TO_PASS"]["failure"].empty());
  nlohmann::json summary = read_json(f.root / "images" / "empty.empty.json");
  CHECK(summary["resolved_instances"] == 0);
  CHECK(summary["unresolved_instances"] == 1);
  CHECK(summary["empty_patch_instances"] == 1);
  CHECK(summary["infra_failure_instances"] == 0);
}

TEST_CASE("a record's image field names its image, and without an eval_script SWE-bench's own one runs there") {
  SKIP_WITHOUT_IMAGES();
  const auto& f = fixture();
  // Docker Hub's name for the image (make-swebench-image.sh tags both).
  nlohmann::json rec = f.record(kCalc2);
  rec["image"] = "swebench/sweb.eval." + arch() + ".swebox-fixtures_1776_calc-2:latest";
  fs::path suite = f.root / "with-image.jsonl";
  std::ofstream(suite) << rec.dump() << "\n";
  Ran gold = f.eval("field", "--suite " + suite.string() + " --predictions gold --timeout 300");
  INFO(gold.output);
  REQUIRE(gold.status == 0);
  nlohmann::json rep = f.report("field", "gold", kCalc2);
  CHECK(rep["resolved"] == true);
  CHECK(rep["tests_status"]["FAIL_TO_PASS"]["success"] == strings({"tests/test_stats.py::test_mean_empty"}));
  CHECK(rep["tests_status"]["PASS_TO_PASS"]["failure"].empty());
  CHECK(rep["audit"]["image"] == rec["image"]);
  std::string script = read(f.report_dir("field", "gold", kCalc2) / "eval.sh");
  CHECK(
      script.rfind(
          "#!/bin/bash\nset -uxo pipefail\nsource /opt/miniconda3/bin/activate\nconda activate testbed\ncd /testbed\n",
          0) == 0);
  CHECK(script.find("\npytest -rA tests/test_stats.py\n") != std::string::npos);
  CHECK(script.find("swebox") == std::string::npos);  // nothing of ours in it
}

TEST_CASE("an instance image that is not on this host is an infra failure naming it and how to get it") {
  SKIP_WITHOUT_IMAGES();
  const auto& f = fixture();
  Ran r = f.eval("missing",
                 "--suite " + f.suite().string() + " --instances " + kCalc1 +
                     " --predictions gold --image-template 'sweb.eval.{arch}.{instance_id_lower}:not-built-here'");
  INFO(r.output);
  CHECK(r.status == 3);
  const std::string image = "sweb.eval." + arch() + ".swebox-fixtures__calc-1:not-built-here";
  CHECK(r.output.find("preflight") != std::string::npos);
  CHECK(r.output.find("INFRA FAILURE: the image " + image + " for " + kCalc1 + " is not on this host") !=
        std::string::npos);
  CHECK(r.output.find("docker pull swebench/sweb.eval." + arch() + ".swebox-fixtures_1776_calc-1:latest") !=
        std::string::npos);
  CHECK(r.output.find("docker load") != std::string::npos);
  nlohmann::json rep = f.report("missing", "gold", kCalc1);
  CHECK(rep["infra_failure"] == true);
  CHECK(rep["resolved"] == false);
  CHECK(rep["infra_failure_reason"].get<std::string>().find(image) != std::string::npos);
  nlohmann::json summary = read_json(f.root / "missing" / "gold.gold.json");
  CHECK(summary["infra_failure_instances"] == 1);
}

TEST_CASE("sealed grading in instance images, and a template without them, are refused before anything runs") {
  // Needs no daemon: the command line is refused first.
  std::string base =
      std::string(SWEBOX_BINARY) + " eval --suite /nonexistent.jsonl --predictions gold --out /tmp/unused";
  Ran sealed = run(base + " --backend docker --grading sealed");
  CHECK(sealed.status == 2);
  CHECK(sealed.output.find("sealed grading is not available in instance images") != std::string::npos);
  Ran template_only = run(base + " --repos /tmp --image-template 'sweb.eval.x86_64.{instance_id_lower}:latest'");
  CHECK(template_only.status == 2);
  CHECK(template_only.output.find("only --backend docker evaluates in") != std::string::npos);
  Ran unknown = run(base + " --backend docker --image-template 'sweb.eval.{instance}:latest'");
  CHECK(unknown.status == 2);
  CHECK(unknown.output.find("unknown placeholder {instance}") != std::string::npos);
}
