// SWE-bench predictions files (tasks/predictions): every accepted shape, and bad records reported.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "tasks/predictions.h"
#include "tasks/reports.h"

using namespace swebox::tasks;

TEST_CASE("predictions load from JSONL, a JSON list and an object keyed by instance id") {
  std::vector<std::string> errors;
  auto jsonl = parse_predictions(
      "{\"instance_id\":\"a\",\"model_name_or_path\":\"m\",\"model_patch\":\"p\"}\n\n{\"instance_id\":\"b\",\"model_patch\":null}\n",
      "p.jsonl", errors);
  REQUIRE(jsonl.size() == 2);
  CHECK(jsonl[0].model_patch == "p");
  CHECK(jsonl[1].model_name_or_path == "unknown-model");
  CHECK(!jsonl[1].model_patch);
  auto list = parse_predictions("[{\"instance_id\":\"a\",\"model_patch\":\"\"}]", "p.json", errors);
  REQUIRE(list.size() == 1);
  auto keyed = parse_predictions("{\"a\":{\"model_patch\":\"x\"},\"b\":{\"model_patch\":\"y\"}}", "p.json", errors);
  REQUIRE(keyed.size() == 2);
  CHECK(keyed[1].instance_id == "b");
  CHECK(errors.empty());
}

TEST_CASE("bad prediction records are reported by place, in valid UTF-8, and the others load") {
  std::vector<std::string> errors;
  auto preds = parse_predictions(
      "{\"instance_id\": 3}\n{\"instance_id\": \"\xc3\x28\"\n{\"instance_id\":\"a\",\"model_patch\":5}\n"
      "{\"instance_id\":\"ok\"}\n",
      "p.jsonl", errors);
  REQUIRE(preds.size() == 1);
  CHECK(preds[0].instance_id == "ok");
  REQUIRE(errors.size() == 3);  // in file order
  CHECK(errors[0] == "p.jsonl:1: a prediction needs a string instance_id");
  CHECK(errors[1].rfind("p.jsonl:2: invalid JSON", 0) == 0);
  CHECK(errors[1].find("\xef\xbf\xbd") != std::string::npos);  // the bad bytes, replaced
  CHECK(errors[2] == "p.jsonl:3: model_patch must be a string or null");
  CHECK_NOTHROW((void)nlohmann::json(errors).dump());
}

TEST_CASE("an empty model name is kept as SWE-bench keeps it, and its reports go to the folder _") {
  std::vector<std::string> errors;
  auto preds = parse_predictions("{\"instance_id\":\"a\",\"model_name_or_path\":\"\",\"model_patch\":null}\n", "p.jsonl", errors);
  REQUIRE(preds.size() == 1);
  CHECK(preds[0].model_name_or_path.empty());
  CHECK(model_dir_name(preds[0].model_name_or_path) == "_");
  CHECK(errors.empty());
}
