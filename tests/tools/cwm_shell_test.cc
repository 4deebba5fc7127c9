// ToolsetConfig::shell_reads_stdin: CWM's session semantics (tools/cwm_shell.h), through the real
// sandbox, against what CWM's session.py does with the same input (facts checked with
// scripts/cwm_diff.py against CWM's own code).
#include "tests/tools/sandbox_fixture.h"
#include "tools/toolset.h"

using namespace swebox::tools;
using swebox::tools::testing::SandboxFixture;

namespace {
ToolsetConfig cwm_shell(double timeout_s = 3) {
  ToolsetConfig c;
  c.shell_reads_stdin = true;
  c.keep_final_newline = true;
  c.bash_timeout_s = timeout_s;
  return c;
}
}  // namespace

TEST_CASE("cwm shell: output kept exactly, state persists, the exit code is read as CWM's backend reads it") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset tools(*f.box, cwm_shell());
  ToolResult a = tools.execute({"bash", "echo hello"});
  INFO(a.detail);
  CHECK(a.ok);
  CHECK(a.feedback == "hello\n");
  CHECK(a.exit_code == 0);
  CHECK(tools.execute({"bash", "printf 'no newline'"}).feedback == "no newline");
  CHECK(tools.execute({"bash", "mkdir -p sub && cd sub && export FOO=bar"}).ok);
  CHECK(tools.execute({"bash", "pwd; echo $FOO"}).feedback == "/testbed/sub\nbar\n");
  CHECK(tools.execute({"bash", "false"}).exit_code == 1);
  CHECK(tools.execute({"bash", "echo out; echo err >&2"}).feedback == "out\nerr\n");
}

TEST_CASE("cwm shell: bash's line numbers count from the session's start, as in CWM") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset tools(*f.box, cwm_shell());
  // CWM: 12 start-script lines and 2 protocol lines, so the first command is line 15; each call
  // then costs its lines + 2, and the exit-code query 3 more.
  CHECK(tools.execute({"bash", "nosuchcommand"}).feedback == "/bin/bash: line 15: nosuchcommand: command not found\n");
  CHECK(tools.execute({"bash", "echo one\nnosuch2"}).feedback == "one\n/bin/bash: line 22: nosuch2: command not found\n");
}

TEST_CASE("cwm shell: a syntax error ends the session, an unclosed quote or a command reading input times out") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset tools(*f.box, cwm_shell(1.5));
  REQUIRE(tools.execute({"bash", "cd /tmp"}).ok);
  ToolResult syntax = tools.execute({"bash", "if then fi"});
  CHECK(!syntax.ok);
  CHECK(syntax.error_kind == "exit");
  CHECK(tools.execute({"bash", "pwd"}).feedback == "/testbed\n");  // a fresh session, in the workspace
  CHECK(tools.execute({"bash", "echo 'unclosed"}).error_kind == "timeout");
  CHECK(tools.execute({"bash", "cat <<EOF\nline"}).error_kind == "timeout");
  CHECK(tools.execute({"bash", "cat"}).error_kind == "timeout");
  // `read` takes the next line of the session's input: CWM's exit-code line
  CHECK(tools.execute({"bash", "read line; echo got:$line"}).feedback == "got:__EXIT_CODE__=$?\n");
  CHECK(tools.execute({"bash", "exit 3"}).error_kind == "exit");
  CHECK(tools.execute({"bash", "echo back"}).feedback == "back\n");
}

TEST_CASE("cwm shell: too much output ends the session with too_long") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset tools(*f.box, cwm_shell(20));
  CHECK(tools.execute({"bash", "head -c 600000 /dev/zero | tr '\\0' a"}).error_kind == "too_long");
  CHECK(tools.execute({"bash", "echo after"}).feedback == "after\n");
}

TEST_CASE("cwm shell: edit and create use the inner session's directory, submit expands its path there") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset tools(*f.box, cwm_shell());
  REQUIRE(tools.execute({"bash", "mkdir -p pkg && cd pkg && export P=fix.patch"}).ok);
  CHECK(tools.execute({"create", "a.txt\nhello"}).ok);
  CHECK(f.file("/testbed/pkg/a.txt") == "hello");
  CHECK(tools.execute({"edit", "a.txt\n<<<<<<< SEARCH\nhello\n=======\nbye\n>>>>>>> REPLACE"}).ok);
  CHECK(f.file("/testbed/pkg/a.txt") == "bye");
  REQUIRE(tools.execute({"bash", "printf 'diff --git a/x b/x\\n' > fix.patch"}).ok);
  ToolResult sub = tools.execute({"submit", "$P"});
  CHECK(sub.ok);
  CHECK(sub.patch == "diff --git a/x b/x\n");
  // the plugin calls advanced the line count: create (1 body line + 2 + 2 + 3), edit (5 + 2 + 2 + 3)
  CHECK(tools.execute({"bash", "nosuch"}).feedback.find("line ") != std::string::npos);
}

TEST_CASE("cwm shell: async_execute gives the same results") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset tools(*f.box, cwm_shell());
  std::vector<ToolResult> results;
  auto keep = [&](ToolResult r) { results.push_back(std::move(r)); };
  for (const char* cmd : {"cd /tmp && echo one", "pwd"}) {
    tools.async_execute({"bash", cmd}, keep);
    f.io.run();
    f.io.restart();
  }
  tools.async_execute({"create", "made.txt\nx"}, keep);
  f.io.run();
  REQUIRE(results.size() == 3);
  CHECK(results[0].feedback == "one\n");
  CHECK(results[1].feedback == "/tmp\n");
  CHECK(results[2].ok);
}
