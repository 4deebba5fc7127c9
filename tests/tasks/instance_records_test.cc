// The one reader of instance-record files (tasks/instance_records.h) that suites, predictions and
// similarity contexts share: every shape, places by line, errors in file order.
#include <doctest/doctest.h>

#include "tasks/instance_records.h"

using namespace swebox::tasks;

TEST_CASE("instance records read from JSONL, an array, one object and an object keyed by id, each with its line") {
  auto jsonl = parse_instance_records("{\"instance_id\":\"a\"}\n\n{\"instance_id\":\"b\"}\n", "r.jsonl");
  REQUIRE(jsonl.size() == 2);
  CHECK(jsonl[1].where == "r.jsonl:3");
  CHECK(jsonl[1].value["instance_id"] == "b");

  auto array = parse_instance_records("[\n {\"instance_id\":\"a\"},\n {\"instance_id\":\"b\"}\n]\n", "r.json");
  REQUIRE(array.size() == 2);
  CHECK(array[1].where == "r.json:3");

  auto one = parse_instance_records("{\"instance_id\":\"a\",\"x\":1}", "r.json");
  REQUIRE(one.size() == 1);
  CHECK(one[0].value["x"] == 1);

  auto keyed = parse_instance_records("{\n \"a\": {\"model_patch\": \"p\"},\n \"b\": {\"instance_id\": \"kept\"}\n}", "r.json");
  REQUIRE(keyed.size() == 2);
  CHECK(keyed[0].value["instance_id"] == "a");     // the key fills a missing instance_id
  CHECK(keyed[1].value["instance_id"] == "kept");  // and never replaces one
  CHECK(keyed[1].where == "r.json:3");
  for (const auto& r : keyed) CHECK(r.error.empty());
}

TEST_CASE("bad instance records are reported in file order, in valid UTF-8, and never thrown") {
  auto records = parse_instance_records("{\"instance_id\":\"a\"}\n{\"bad\xff\n7\n", "r.jsonl");
  REQUIRE(records.size() == 3);
  CHECK(records[0].error.empty());
  CHECK(records[1].where == "r.jsonl:2");
  CHECK(records[1].error.rfind("invalid JSON", 0) == 0);
  CHECK(records[1].error.find("\xef\xbf\xbd") != std::string::npos);
  CHECK(records[2].value == 7);  // a value, not an object: the caller judges it

  auto cut = parse_instance_records("[{\"instance_id\":\"a\"},\n{\"instance_id\":", "r.json");
  REQUIRE_FALSE(cut.empty());
  CHECK(cut.back().error.find("unterminated array") != std::string::npos);
  CHECK_THROWS_AS(read_instance_records("/nonexistent/records.jsonl"), std::runtime_error);
}
