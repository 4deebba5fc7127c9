// SWE-bench's grading rules (docs/formats.md §4.3), one test per rule.
#include <doctest/doctest.h>

#include "tasks/grading.h"

using namespace swebox::tasks;

namespace {

std::string wrap(const std::string& tests, const std::string& after = "") {
  return "+ git apply -v /tmp/patch.diff\n>>>>> Applied Patch\n+ : '>>>>> Start Test Output'\n" + tests +
         "+ : '>>>>> End Test Output'\n" + after;
}

const std::string kPytest =
    "PASSED tests/test_a.py::test_fixed\n"
    "PASSED tests/test_a.py::test_old\n"
    "FAILED tests/test_a.py::test_broken - assert 0\n"
    "SKIPPED tests/test_a.py::test_skipped\n"
    "XFAIL tests/test_a.py::test_xfail\n";

}  // namespace

TEST_CASE("a log with every F2P and P2P test passing is FULL and resolved") {
  Grade g = grade_log(wrap(kPytest), {"tests/test_a.py::test_fixed", "tests/test_a.py::test_xfail"},
                      {"tests/test_a.py::test_old"}, "parse_log_pytest");
  CHECK(g.gradeable);
  CHECK(g.resolution == Resolution::full);
  CHECK(g.resolved);
  CHECK(g.f2p_rate == 1.0);
  CHECK(g.tests_status.fail_to_pass.success ==
        std::vector<std::string>{"tests/test_a.py::test_fixed", "tests/test_a.py::test_xfail"});
}

TEST_CASE("some F2P passing with P2P intact is PARTIAL, which is not resolved") {
  Grade g = grade_log(wrap(kPytest), {"tests/test_a.py::test_fixed", "tests/test_a.py::test_broken"},
                      {"tests/test_a.py::test_old"}, "parse_log_pytest");
  CHECK(g.resolution == Resolution::partial);
  CHECK_FALSE(g.resolved);
  CHECK(g.f2p_rate == 0.5);
  CHECK(g.tests_status.fail_to_pass.failure == std::vector<std::string>{"tests/test_a.py::test_broken"});
}

TEST_CASE("a missing or failing P2P test makes the resolution NO") {
  Grade g = grade_log(wrap(kPytest), {"tests/test_a.py::test_fixed"}, {"tests/test_a.py::test_gone"}, "parse_log_pytest");
  CHECK(g.resolution == Resolution::no);
  CHECK(g.tests_status.pass_to_pass.failure == std::vector<std::string>{"tests/test_a.py::test_gone"});
  CHECK(g.p2p_rate == 0.0);
}

TEST_CASE("SKIPPED fails an F2P test but keeps a P2P test, and v4.1 rules count it as neither") {
  TestLists lists{{"tests/test_a.py::test_skipped"}, {"tests/test_a.py::test_skipped"}, {}, {}};
  Grade head = grade_log(wrap(kPytest), lists, "parse_log_pytest");
  CHECK(head.tests_status.fail_to_pass.failure == std::vector<std::string>{"tests/test_a.py::test_skipped"});
  CHECK(head.tests_status.pass_to_pass.success == std::vector<std::string>{"tests/test_a.py::test_skipped"});
  CHECK(head.resolution == Resolution::no);
  GradingOptions v41;
  v41.v4_1_compat = true;
  Grade old = grade_log(wrap(kPytest), lists, "parse_log_pytest", v41);
  CHECK(old.tests_status.fail_to_pass.success.empty());
  CHECK(old.tests_status.fail_to_pass.failure.empty());
  CHECK(old.tests_status.pass_to_pass.success.empty());
  CHECK(old.tests_status.pass_to_pass.failure.empty());
  CHECK(old.resolution == Resolution::full);  // empty lists rate 1, as in v4.1
}

TEST_CASE("empty F2P and P2P lists rate 1") {
  Grade g = grade_log(wrap(kPytest), {}, {}, "parse_log_pytest");
  CHECK(g.f2p_rate == 1.0);
  CHECK(g.p2p_rate == 1.0);
  CHECK(g.resolved);
}

TEST_CASE("error markers and missing start/end markers make a log ungradeable") {
  for (const char* marker : {">>>>> Patch Apply Failed", ">>>>> Reset Failed", ">>>>> Tests Errored", ">>>>> Tests Timed Out"}) {
    Grade g = grade_log(wrap(kPytest, std::string(marker) + "\n"), {"tests/test_a.py::test_fixed"}, {}, "parse_log_pytest");
    CHECK_FALSE(g.gradeable);
    CHECK(g.ungradeable_reason.find(marker) != std::string::npos);
    CHECK_FALSE(g.resolved);
    CHECK(g.tests_status.fail_to_pass.success.empty());
  }
  Grade timeout = grade_log(wrap(kPytest, "\n\nTimeout error: 1800 seconds exceeded."), {"tests/test_a.py::test_fixed"}, {},
                            "parse_log_pytest");
  CHECK_FALSE(timeout.gradeable);
  Grade no_end = grade_log("+ : '>>>>> Start Test Output'\n" + kPytest, {"tests/test_a.py::test_fixed"}, {}, "parse_log_pytest");
  CHECK_FALSE(no_end.gradeable);
  CHECK(no_end.ungradeable_reason.find("marker") != std::string::npos);
}

TEST_CASE("results outside the markers are used when nothing parses between them") {
  std::string log = kPytest + wrap("collected 0 items\n");
  Grade g = grade_log(log, {"tests/test_a.py::test_fixed"}, {}, "parse_log_pytest");
  CHECK(g.gradeable);
  CHECK(g.resolved);
}

TEST_CASE("an empty status map is ungradeable unless a runner summary shows tests ran") {
  Grade none = grade_log(wrap("ImportError: no module named foo\n"), {"t1"}, {}, "parse_log_pytest");
  CHECK_FALSE(none.gradeable);
  GradingOptions fail_only;
  fail_only.eval_type = EvalType::fail_only;
  Grade ran = grade_log(wrap("  12 passing (3s)\n"), {"t1"}, {}, "parse_log_pytest", fail_only);
  CHECK(ran.gradeable);
  CHECK(ran.resolved);  // fail_only: a test not listed FAILED succeeds
  Grade zero = grade_log(wrap("Executed 0 of 0 SUCCESS\n"), {"t1"}, {}, "parse_log_pytest", fail_only);
  CHECK_FALSE(zero.gradeable);
}

TEST_CASE("a non-zero test exit code with nothing FAILED or ERROR is ungradeable") {
  Grade fake = grade_log(wrap("PASSED t1\n", ">>>>> Test Exit Code: 1\n"), {"t1"}, {}, "parse_log_pytest");
  CHECK_FALSE(fake.gradeable);
  CHECK(fake.test_exit_code == 1);
  CHECK(fake.ungradeable_reason.find("exited with 1") != std::string::npos);
  Grade real = grade_log(wrap("PASSED t1\nFAILED t2\n", ">>>>> Test Exit Code: 1\n"), {"t1"}, {"t2"}, "parse_log_pytest");
  CHECK(real.gradeable);
  CHECK(real.resolution == Resolution::no);
  Grade ok = grade_log(wrap("PASSED t1\n", ">>>>> Test Exit Code: 0\n"), {"t1"}, {}, "parse_log_pytest");
  CHECK(ok.resolved);
  GradingOptions v41;
  v41.v4_1_compat = true;
  CHECK(grade_log(wrap("PASSED t1\n", ">>>>> Test Exit Code: 1\n"), {"t1"}, {}, "parse_log_pytest", v41).resolved);
}

TEST_CASE("fail_only counts a test as failed only when it is listed FAILED") {
  GradingOptions o;
  o.eval_type = parse_eval_type("fail_only");
  Grade g = grade_log(wrap("FAILED t1 - x\nERROR t2\nPASSED t3\n", ">>>>> Test Exit Code: 1\n"), {"t1", "t2", "t4"}, {"t3"},
                      "parse_log_pytest", o);
  CHECK(g.tests_status.fail_to_pass.failure == std::vector<std::string>{"t1"});
  CHECK(g.tests_status.fail_to_pass.success == std::vector<std::string>{"t2", "t4"});
  CHECK_THROWS_AS(parse_eval_type("sometimes"), std::invalid_argument);
}

TEST_CASE("a truncated parametrized id prefix-matches when the candidates agree on pass or fail") {
  // pytest_v2 (astropy) keeps spaces inside ids; the instances' lists hold ids cut at the first space.
  std::string log = wrap(
      "PASSED astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon /m**2]\n"
      "PASSED astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon /cm**2]\n"
      "PASSED astropy/units/tests/test_format.py::test_mixed[a]\n"
      "FAILED astropy/units/tests/test_format.py::test_mixed[b]\n");
  std::string truncated = "astropy/units/tests/test_format.py::test_ogip_grammar_fail[log(photon";
  std::string mixed = "astropy/units/tests/test_format.py::test_mixed[";
  Grade g = grade_log(log, {truncated}, {mixed}, "parse_log_astropy");
  CHECK(g.tests_status.fail_to_pass.success == std::vector<std::string>{truncated});
  CHECK(g.tests_status.pass_to_pass.failure == std::vector<std::string>{mixed});  // candidates disagree
  GradingOptions v41;
  v41.v4_1_compat = true;
  CHECK(grade_log(log, {truncated}, {}, "parse_log_astropy", v41).tests_status.fail_to_pass.failure ==
        std::vector<std::string>{truncated});
  // A complete id never prefix-matches.
  Grade exact = grade_log(log, {"astropy/units/tests/test_format.py::test_mixed"}, {}, "parse_log_astropy");
  CHECK(exact.tests_status.fail_to_pass.failure.size() == 1);
}

TEST_CASE("FAIL_TO_FAIL and PASS_TO_FAIL are sorted only when asked, and the JSON keeps SWE-bench's key order") {
  GradingOptions o;
  o.calculate_to_fail = true;
  TestLists lists{{"tests/test_a.py::test_fixed"}, {}, {"tests/test_a.py::test_broken"}, {"tests/test_a.py::test_old"}};
  Grade g = grade_log(wrap(kPytest), lists, "parse_log_pytest", o);
  CHECK(g.tests_status.fail_to_fail.failure == std::vector<std::string>{"tests/test_a.py::test_broken"});
  CHECK(g.tests_status.pass_to_fail.success == std::vector<std::string>{"tests/test_a.py::test_old"});
  CHECK(tests_status_json(g.tests_status).dump() ==
        "{\"FAIL_TO_PASS\":{\"success\":[\"tests/test_a.py::test_fixed\"],\"failure\":[]},"
        "\"PASS_TO_PASS\":{\"success\":[],\"failure\":[]},"
        "\"FAIL_TO_FAIL\":{\"success\":[],\"failure\":[\"tests/test_a.py::test_broken\"]},"
        "\"PASS_TO_FAIL\":{\"success\":[\"tests/test_a.py::test_old\"],\"failure\":[]}}");
  Grade plain = grade_log(wrap(kPytest), lists, "parse_log_pytest");
  CHECK(plain.tests_status.fail_to_fail.failure.empty());
  CHECK(std::string(swebench_name(Resolution::partial)) == "RESOLVED_PARTIAL");
}

TEST_CASE("grading with an unknown parser name throws, naming the parser") {
  CHECK_THROWS_WITH_AS(grade_log(wrap(kPytest), {}, {}, "parse_log_nope"), doctest::Contains("parse_log_nope"),
                       std::invalid_argument);
}
