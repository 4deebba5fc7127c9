// SWE-bench log parsers on realistic runner output (docs/formats.md §4.4).
#include <doctest/doctest.h>

#include <fstream>

#include "tasks/log_parsers.h"
#include "tests/scoring/oracle.h"

using namespace swebox::tasks;

namespace {
constexpr auto P = TestStatus::passed;
constexpr auto F = TestStatus::failed;
constexpr auto S = TestStatus::skipped;
constexpr auto E = TestStatus::error;
constexpr auto X = TestStatus::xfail;
}  // namespace

TEST_CASE("pytest parser reads -rA summary lines, cuts FAILED reasons and ignores SKIPPED counts") {
  std::string log =
      "============================= test session starts ==============================\n"
      "collected 5 items\n\n"
      "testing/test_mark.py ..Fsx                                             [100%]\n"
      "=========================== short test summary info ============================\n"
      "PASSED testing/test_mark.py::test_marked_class_run_twice\n"
      "PASSED testing/test_mark.py::test_ini_markers[option]\n"
      "XFAIL testing/test_mark.py::test_xfail - reason: flaky\n"
      "SKIPPED [1] testing/test_mark.py:42: could not import 'numpy'\n"
      "FAILED testing/test_mark.py::test_keyword_option - AssertionError: assert 1 == 2\n"
      "ERROR testing/test_mark.py::test_fixture - fixture 'tmp' not found\n"
      "PASSED\n"
      "========= 1 failed, 2 passed, 1 skipped, 1 xfailed, 1 error in 0.12s ==========\n";
  StatusMap m = parse_log("parse_log_pytest", log);
  CHECK(m == StatusMap{{"testing/test_mark.py::test_marked_class_run_twice", P},
                       {"testing/test_mark.py::test_ini_markers[option]", P},
                       {"testing/test_mark.py::test_xfail", X},
                       {"testing/test_mark.py::test_keyword_option", F},
                       {"testing/test_mark.py::test_fixture", E}});
  // flask, xarray, astroid ... are the same parser.
  CHECK(parse_log("parse_log_flask", log) == m);
  CHECK(parse_log("parse_log_xarray", log) == m);
}

TEST_CASE("pytest parser keys a status-like word it does not know as OTHER, as SWE-bench keeps the raw word") {
  StatusMap m = parse_log_pytest("PASSEDx tests/a.py::t\nFAILED (failures=1)\n");
  CHECK(m.at("tests/a.py::t") == TestStatus::other);
  CHECK(m.at("(failures=1)") == F);  // unittest's summary line, as SWE-bench reads it
  CHECK(std::string(to_string(TestStatus::other)) == "OTHER");
}

TEST_CASE("pytest_options parser cuts an absolute-path parameter to its last component") {
  std::string log =
      "PASSED tests/test_utils.py::test_get_netrc_auth[/home/user/.netrc]\n"
      "PASSED tests/test_utils.py::test_unquote[//server/share]\n"
      "PASSED tests/test_utils.py::test_glob[/tmp/*.py]\n"
      "FAILED tests/test_requests.py::test_proxy[http://x] - ConnectionError\n"
      "PASSED tests/test_dataset.py::test_read[/data/files/CT_small.dcm]extra\n";
  StatusMap m = parse_log("parse_log_requests", log);
  CHECK(m == StatusMap{{"tests/test_utils.py::test_get_netrc_auth[/.netrc]", P},
                       {"tests/test_utils.py::test_unquote[//server/share]", P},
                       {"tests/test_utils.py::test_glob[/tmp/*.py]", P},
                       {"tests/test_requests.py::test_proxy[http://x]", F},
                       {"tests/test_dataset.py::test_read[/CT_small.dcm]", P}});
  CHECK(parse_log("parse_log_pylint", log) == m);
  CHECK(parse_log("parse_log_pydicom", log) == m);
}

TEST_CASE("pytest_v2 parser strips colours and control characters and reads the old trailing-status form") {
  std::string log =
      "\x1b[32mPASSED\x1b[0m sklearn/tests/test_base.py::test_clone\n"
      "\x1b[31mFAILED\x1b[0m sklearn/tests/test_base.py::test_repr[a b] - AssertionError: x - y\n"
      "SKIPPED [2] sklearn/tests/test_base.py:10: needs pandas\n"
      "astropy/io/tests/test_x.py::test_old_style PASSED\r\n"
      "astropy/io/tests/test_x.py::test_old_fail FAILED\n"
      "PASSED sphinx/tests/test_build.py::test_html[ text]\n";
  StatusMap m = parse_log("parse_log_scikit", log);
  CHECK(m == StatusMap{{"sklearn/tests/test_base.py::test_clone", P},
                       {"sklearn/tests/test_base.py::test_repr[a b]", F},
                       {"astropy/io/tests/test_x.py::test_old_style", P},
                       {"astropy/io/tests/test_x.py::test_old_fail", F},
                       {"sphinx/tests/test_build.py::test_html[ text]", P}});
  CHECK(parse_log("parse_log_astropy", log) == m);
  CHECK(parse_log("parse_log_sphinx", log) == m);
}

TEST_CASE("django parser reads verbose unittest lines, FAIL/ERROR headers, a lone ok and the multi-line forms") {
  std::string log =
      "Testing against Django installed in '/testbed/django'\n"
      "test_add (admin_views.tests.AdminViewTests) ... ok\n"
      "test_upper (utils_tests.test_text.TestUtilsText) ... OK\n"
      "test_skip (utils_tests.test_text.TestUtilsText) ... skipped 'no database'\n"
      "test_bad (utils_tests.test_text.TestUtilsText) ... FAIL\n"
      "test_boom (utils_tests.test_text.TestUtilsText) ... ERROR\n"
      "test_print (utils_tests.test_text.TestUtilsText) ... printing something\n"
      "ok\n"
      "test_check (check_framework.tests.Checks) ... System check identified no issues (0 silenced)\n"
      "ok\n"
      "test_500 (view_tests.tests.Debug) ... Internal Server Error: /raises500/\n"
      "ok\n"
      "test_cmd (admin_scripts.tests.ManageRunserver) ... Testing against Django installed in '/testbed/django' with up to 8 processes\n"
      "Found 3 test(s).\n"
      "System check identified no issues (0 silenced).\n"
      "ok\n"
      "======================================================================\n"
      "FAIL: test_bad (utils_tests.test_text.TestUtilsText)\n"
      "ERROR: test_setup (utils_tests.test_text.SetupTests)\n"
      "--version is equivalent to version\n";
  StatusMap m = parse_log("parse_log_django", log);
  CHECK(m.at("test_add (admin_views.tests.AdminViewTests)") == P);
  CHECK(m.at("test_upper (utils_tests.test_text.TestUtilsText)") == P);
  CHECK(m.at("test_skip (utils_tests.test_text.TestUtilsText)") == S);
  CHECK(m.at("test_bad (utils_tests.test_text.TestUtilsText)") == F);
  CHECK(m.at("test_bad") == F);  // the "FAIL: name" header keys the bare name, as SWE-bench does
  CHECK(m.at("test_boom (utils_tests.test_text.TestUtilsText)") == E);
  CHECK(m.at("test_setup") == E);
  CHECK(m.at("test_print (utils_tests.test_text.TestUtilsText)") == P);
  CHECK(m.at("test_check (check_framework.tests.Checks)") == P);
  CHECK(m.at("test_500 (view_tests.tests.Debug)") == P);
  CHECK(m.at("test_cmd (admin_scripts.tests.ManageRunserver)") == P);
  CHECK(m.at("--version is equivalent to version") == P);
}

TEST_CASE("django multi-line patterns need the exact message and an ok line") {
  // Pattern 3 wants "(0 silenced)" right before the newline: Django's trailing '.' defeats it, but
  // the lone "ok" still credits the test through the previous-test rule.
  StatusMap m = parse_log_django("test_a (m.C) ... System check identified no issues (0 silenced).\nok\n");
  CHECK(m.at("test_a (m.C)") == P);
  StatusMap n = parse_log_django("test_b (m.C) ... Internal Server Error: /x/\nnot ok\n");
  CHECK(n.count("test_b (m.C)") == 0);
}

TEST_CASE("sympy parser reads test_x ok/F/E lines and ___ path.py:name ___ failure headers") {
  std::string log =
      "============================= test process starts ==============================\n"
      "sympy/core/tests/test_basic.py[3] \n"
      "test_structure ok\n"
      "test_equality F\n"
      "test_matches_basic E\n"
      "test_slow_thing ok [2.31s]\n"
      "________________________________________________________________________________\n"
      "_____________ sympy/core/tests/test_basic.py:test_equality _____________\n"
      "Traceback (most recent call last):\n";
  StatusMap m = parse_log("parse_log_sympy", log);
  CHECK(m.at("test_structure") == P);
  CHECK(m.at("test_equality") == F);
  CHECK(m.at("test_matches_basic") == E);
  CHECK(m.count("test_slow_thing") == 0);  // does not end with " ok"
  CHECK(m.at("sympy/core/tests/test_basic.py:test_equality") == F);
}

TEST_CASE("matplotlib parser maps MouseButton names to numbers before reading pytest lines") {
  StatusMap m = parse_log("parse_log_matplotlib",
                          "PASSED lib/matplotlib/tests/test_widgets.py::test_span[MouseButton.LEFT]\n"
                          "FAILED lib/matplotlib/tests/test_widgets.py::test_span[MouseButton.RIGHT] - x\n");
  CHECK(m == StatusMap{{"lib/matplotlib/tests/test_widgets.py::test_span[1]", P},
                       {"lib/matplotlib/tests/test_widgets.py::test_span[3]", F}});
}

TEST_CASE("seaborn parser reads FAILED x, x PASSED and PASSED x") {
  StatusMap m = parse_log("parse_log_seaborn",
                          "tests/test_core.py::TestA::test_1 PASSED [ 10%]\n"
                          "PASSED tests/test_core.py::TestA::test_2\n"
                          "FAILED tests/test_core.py::TestA::test_3 - AssertionError\n"
                          "tests/test_core.py::TestA::test_4 FAILED [ 20%]\n");
  CHECK(m == StatusMap{{"tests/test_core.py::TestA::test_1", P},
                       {"tests/test_core.py::TestA::test_2", P},
                       {"tests/test_core.py::TestA::test_3", F}});
}

TEST_CASE("unittest parser reads verbose outcomes including expected failures") {
  StatusMap m = parse_log("unittest",
                          "test_a (pkg.tests.T.test_a) ... ok\n"
                          "test_b (pkg.tests.T.test_b) ... FAIL\n"
                          "test_c (pkg.tests.T) ... ERROR\n"
                          "test_d (pkg.tests.T) ... skipped 'slow'\n"
                          "test_e (pkg.tests.T) ... expected failure\n"
                          "test_f (pkg.tests.T) ... unexpected success\n"
                          "Ran 6 tests in 0.01s\n");
  CHECK(m == StatusMap{{"test_a (pkg.tests.T.test_a)", P},
                       {"test_b (pkg.tests.T.test_b)", F},
                       {"test_c (pkg.tests.T)", E},
                       {"test_d (pkg.tests.T)", S},
                       {"test_e (pkg.tests.T)", X},
                       {"test_f (pkg.tests.T)", F}});
}

TEST_CASE("JUnit XML parser reads testcase outcomes and unescapes attributes") {
  StatusMap m = parse_log("junit_xml",
                          "<?xml version=\"1.0\"?><testsuites><testsuite name=\"pytest\">"
                          "<testcase classname=\"tests.test_a\" name=\"test_ok\" time=\"0.1\"/>"
                          "<testcase classname=\"tests.test_a\" name=\"test_fail[a&amp;b]\"><failure message=\"x\">trace</failure></testcase>"
                          "<testcase classname=\"tests.test_a\" name=\"test_err\"><error message=\"y\"/></testcase>"
                          "<testcase name=\"test_skip\"><skipped/></testcase>"
                          "</testsuite></testsuites>");
  CHECK(m == StatusMap{{"tests.test_a.test_ok", P},
                       {"tests.test_a.test_fail[a&b]", F},
                       {"tests.test_a.test_err", E},
                       {"test_skip", S}});
}

TEST_CASE("every log_parser named in the shared SWE-bench instances is known, and an unknown name is a clear error") {
  std::ifstream in(scoring_test::shared_dir() + "/data/swebench/verified.test.jsonl");
  if (!in) {
    MESSAGE("skipped the data part: no SWE-bench data under " << scoring_test::shared_dir());
  }
  std::string line;
  size_t checked = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    std::string parser = j.value("log_parser", "");
    CHECK_MESSAGE(is_known_parser(parser), parser);
    CHECK(parser_for_repo(j.at("repo").get<std::string>()) == parser);
    ++checked;
  }
  if (in.is_open()) CHECK(checked > 400);
  CHECK_THROWS_WITH_AS(parse_log("parse_log_jest", ""), doctest::Contains("unknown log parser 'parse_log_jest'"),
                       std::invalid_argument);
  CHECK(parser_for_repo("nobody/nothing").empty());
}
