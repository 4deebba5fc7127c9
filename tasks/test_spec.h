// What an evaluation runs (SWE-bench's test_spec, docs/formats.md §4.2): the eval script of one instance,
// made to run on this host. An instance's own eval_script is kept line for line except that conda
// activation and install steps are replaced by the environment table's offline set-up; without an
// eval_script one is built the way SWE-bench builds it, from the table's test command and the files
// of test_patch.
#pragma once

#include <string>
#include <vector>

#include "tasks/environment.h"
#include "tasks/grading.h"
#include "tasks/suite.h"

namespace swebox::tasks {

// The heredoc delimiter of SWE-bench's eval scripts (the log markers are grading.h's).
inline constexpr const char* kTestPatchHeredoc = "EOF_114329324912";
// Where the eval script leaves "START END STATUS" of the test command (epoch seconds, exit status),
// for timing, and for sealed grading's exit-code check (stdout's line can be printed by the tests).
inline constexpr const char* kTestTimeFile = "/tmp/.swebox-test-time";
// Printed (with exit status 97) by a sealed eval script when the test patch, or the reset of the
// test files before it, fails: the evaluation is then an infrastructure failure.
inline constexpr const char* kSealedSetupFailed = ">>>>> Sealed: Test Files Not Prepared";
inline constexpr int kSealedSetupFailedStatus = 97;

// How the eval script is adapted beyond making it run on this host.
struct EvalScriptOptions {
  // Sealed grading: bytecode purged and never written, the test patch (and the reset before it)
  // checked, user site-packages off.
  bool sealed = false;
  // When non-empty and the test command is a plain pytest command: `--junitxml=<junit_path>` is
  // added to it (the report is read back by the host).
  std::string junit_path;
};

struct TestSpec {
  std::string instance_id;
  std::string eval_script;                 // the script to run with `bash -s` in /testbed
  std::string origin;                      // "instance eval_script" or "built from the environment table"
  std::vector<std::string> dropped_lines;  // lines of the instance's script replaced (conda, installs)
  std::vector<std::string> test_directives;// test arguments taken from test_patch (built scripts)
  std::string log_parser;                  // the instance's, else the table's, else SWE-bench's for the repo
  Environment env;
  std::vector<std::string> test_commands;  // the lines between the start and end markers
  bool junit = false;                      // a JUnit report was asked of the test command
  std::string junit_why_not;               // why not, when a path was given but no report asked
};

TestSpec make_test_spec(const Instance& instance, const Environment& env, const EvalScriptOptions& options = {});
// For an evaluation in the instance's own image (SWE-bench's per-instance images, where conda and
// the installed repository are): the instance's eval_script as it is, else SWE-bench's script
// built from the table's test command (swebench_eval_script), as it is; the log parser as above.
TestSpec make_image_test_spec(const Instance& instance, const Environment& env);

// The files test_patch changes that exist at the base commit (`--- a/PATH`), reset before and after.
std::vector<std::string> modified_test_files(const std::string& test_patch);
// The test arguments: test_patch's files minus non-test extensions, in the table's style
// ("django": no .py, no leading tests/, dots for slashes).
std::vector<std::string> test_directives(const std::string& test_patch, const Environment& env);

// An eval script as SWE-bench writes it (conda and install steps included), from the table's
// test command; make_test_spec then adapts it like any instance's own.
std::string swebench_eval_script(const Instance& instance, const Environment& env);
// Adapts an eval script to this host: an untraced prelude (PATH, environment, `python` resolving
// to the table's interpreter), conda/install lines replaced by the table's set-up, the test command
// timed, and `>>>>> Test Exit Code: N` after the end marker. Heredoc bodies are never touched.
// With options (sealed, junit) as EvalScriptOptions says; `spec`, when given, gets test_commands,
// junit and junit_why_not.
std::string adapt_eval_script(const std::string& script, const Environment& env,
                              std::vector<std::string>* dropped = nullptr, const EvalScriptOptions& options = {},
                              TestSpec* spec = nullptr);

// A test command line that is plain pytest (`pytest ...`, `py.test ...`, `python -m pytest ...`,
// after variable assignments; no other command, redirection or substitution): the only kind a
// --junitxml option is added to.
bool is_plain_pytest_command(const std::string& line);

}  // namespace swebox::tasks
