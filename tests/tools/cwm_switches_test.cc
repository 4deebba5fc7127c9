// ToolsetConfig's CWM switches (docs/formats.md §1.2), each against the swebox default, through the
// real sandbox: the released backend's final newline, submit through the shell, edit of a file
// that is not UTF-8, create's normalised parent.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/tools/sandbox_fixture.h"
#include "tools/builtin_tools.h"
#include "tools/session_path.h"
#include "tools/toolset.h"

using namespace swebox::tools;
using swebox::tools::testing::SandboxFixture;

namespace {
ToolsetConfig cwm_switches() {
  ToolsetConfig c;
  c.keep_final_newline = true;
  c.submit_through_shell = true;
  c.edit_requires_utf8 = true;
  c.create_normalised_parent = true;
  return c;
}
const char* const kPatch = "diff --git a/x b/x\n--- a/x\n+++ b/x\n";
}  // namespace

TEST_CASE("keep_final_newline: bash, edit, create and submit keep what CWM's released backend keeps") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset ours(*f.box);
  Toolset cwm(*f.box, cwm_switches());
  CHECK(ours.execute({"bash", "echo hi"}).feedback == "hi");
  CHECK(cwm.execute({"bash", "echo hi"}).feedback == "hi\n");
  CHECK(cwm.execute({"bash", "printf 'two\\n\\n'"}).feedback == "two\n\n");
  CHECK(cwm.execute({"bash", "printf x"}).feedback == "x");
  ToolResult created = cwm.execute({"create", "a.txt\nhello"});
  CHECK(created.ok);
  CHECK(created.feedback.back() == '\n');
  CHECK(created.feedback == default_templates().render("tools/create_done", {{"path", "a.txt"}, {"num_lines", "1"}}) + "\n");
  CHECK(ours.execute({"create", "b.txt\nhello"}).feedback.back() != '\n');
  ToolResult failed = cwm.execute({"edit", "a.txt\nno block"});
  CHECK(!failed.ok);
  CHECK(failed.feedback.back() == '\n');  // the plugin prints failures too
  CHECK(cwm.execute({"bash", std::string("printf '") + kPatch + "' > p.diff"}).ok);
  ToolResult sub = cwm.execute({"submit", "p.diff"});
  REQUIRE(sub.ok);
  CHECK(sub.feedback.find(std::string(kPatch) + "\n</submission>") != std::string::npos);
  CHECK(sub.patch == kPatch);
  ToolResult sub_ours = ours.execute({"submit", "p.diff"});
  CHECK(sub_ours.feedback.find("+++ b/x\n</submission>") != std::string::npos);
}

TEST_CASE("submit_through_shell: the path is expanded by the session's shell, the message names it as written") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset ours(*f.box);
  Toolset cwm(*f.box, cwm_switches());
  REQUIRE(cwm.execute({"bash", std::string("printf '") + kPatch + "' > fix.patch && cp fix.patch ~/x.patch && "
                                  "cp fix.patch 'with space.patch' && export P=fix.patch"}).ok);
  for (const char* path : {"~/x.patch", "$PWD/fix.patch", "fi*.patch", "'with space.patch'", "$P", "  fix.patch  "}) {
    CAPTURE(path);
    ToolResult r = cwm.execute({"submit", path});
    CHECK(r.ok);
    CHECK(r.patch == kPatch);
  }
  CHECK(ours.execute({"submit", "fix.patch"}).ok);
  CHECK(!ours.execute({"submit", "~/x.patch"}).ok);  // swebox's default takes the path literally
  ToolResult missing = cwm.execute({"submit", "missing.patch"});
  CHECK(missing.error_kind == "unreadable");
  CHECK(missing.feedback.find("missing.patch") != std::string::npos);
  CHECK(cwm.execute({"bash", "touch empty.patch"}).ok);
  CHECK(cwm.execute({"submit", "empty.patch"}).error_kind == "empty");
}

TEST_CASE("edit_requires_utf8: a Latin-1 file is not edited, as CWM's plugin fails to decode it") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset ours(*f.box);
  Toolset cwm(*f.box, cwm_switches());
  REQUIRE(cwm.execute({"bash", "printf 'caf\\xe9\\nna\\n' > latin1.txt"}).ok);
  const std::string edit = "latin1.txt\n<<<<<<< SEARCH\nna\n=======\nno\n>>>>>>> REPLACE";
  ToolResult refused = cwm.execute({"edit", edit});
  CHECK(!refused.ok);
  CHECK(refused.error_kind == "not_utf8");
  CHECK(f.file("/testbed/latin1.txt") == "caf\xe9\nna\n");
  // The shipped wording; the cwm set's text is the plugin's traceback, ending in CPython's words.
  CHECK(refused.feedback.find("latin1.txt is not valid UTF-8") != std::string::npos);
  CHECK(ours.execute({"edit", edit}).ok);
  CHECK(f.file("/testbed/latin1.txt") == "caf\xe9\nno\n");
}

TEST_CASE("create_normalised_parent: '..' in the path is resolved before the parent is checked and named") {
  SandboxFixture f;
  REQUIRE_SANDBOX(f);
  Toolset ours(*f.box);
  Toolset cwm(*f.box, cwm_switches());
  ToolResult r = cwm.execute({"create", "nodir/../nodir2/x.py\nx"});
  CHECK(r.error_kind == "no_parent");
  CHECK(r.feedback.find("/testbed/nodir2 ") != std::string::npos);
  CHECK(ours.execute({"create", "nodir/../nodir2/x.py\nx"}).feedback.find("/testbed/nodir/../nodir2 ") != std::string::npos);
  CHECK(normalise_path("/testbed/a/../b/./c") == "/testbed/b/c");
  CHECK(normalise_path("/../x") == "/x");
  CHECK(normalise_path("a/../../b") == "../b");
  CHECK(normalise_path("//x/") == "//x");
}

// {decode_error} of tools/edit_not_utf8 must be CPython's own message (CWM's plugin prints it in its
// traceback): compared with Debian's python3 decoding the same bytes.
TEST_CASE("cpython_utf8_decode_error: CPython's UnicodeDecodeError text, byte for byte") {
  if (access("/usr/bin/python3", X_OK) != 0) {
    MESSAGE("skipped: /usr/bin/python3 is missing");
    return;
  }
  const std::vector<std::string> cases = {
      "caf\xe9\n", "\xff", "abc\x80z", "\xc3", "ok\xe2\x82", "\xe2\x82z", "\xe0\x80\x80", "\xed\xa0\x80",
      "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf0\x9f\x98", "\xf0\x9f\x98\x80 then \xc0\xaf", "\xc1\xbf", "\xf5\x80",
      "valid \xc3\xa9 then \xe9", "\xef\xbf"};
  for (const auto& bytes : cases) {
    std::string hex;
    for (unsigned char c : bytes) {
      char b[3];
      snprintf(b, sizeof b, "%02x", c);
      hex += b;
    }
    std::string cmd = "/usr/bin/python3 -c \"import sys\ntry:\n    bytes.fromhex('" + hex +
                      "').decode('utf-8')\nexcept UnicodeDecodeError as e:\n    sys.stdout.write(str(e))\"";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string python;
    char buf[512];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) python.append(buf, n);
    pclose(p);
    CAPTURE(hex);
    REQUIRE(python.rfind("'utf-8' codec ", 0) == 0);
    CHECK(swebox::tools::cpython_utf8_decode_error(bytes) == python.substr(14));
  }
  CHECK(swebox::tools::cpython_utf8_decode_error("plain \xc3\xa9 text") == "");
}
