// tools/cwm_wording: the Python string-literal reader that `swebox templates import-cwm` uses, on
// literals written here; and, when SWEBOX_CWM_DIR names a checkout of facebookresearch/cwm, the
// import itself (every template found, the set loadable and renderable).
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tools/cwm_wording.h"
#include "tools/prompts.h"
#include "tools/template.h"

using swebox::tools::CwmImportError;
using swebox::tools::parse_python_strings;
using swebox::tools::PythonStringPiece;

namespace {
std::string joined(const std::vector<PythonStringPiece>& pieces) {
  std::string s;
  for (const auto& p : pieces) s += p.field ? "<" + p.text + ">" : p.text;
  return s;
}
}  // namespace

TEST_CASE("python literals: plain, escaped, raw, triple-quoted and implicitly concatenated") {
  CHECK(joined(parse_python_strings(R"(x = "a\tb\n\"q\"")", 4)) == "a\tb\n\"q\"");
  CHECK(joined(parse_python_strings(R"(x = r"a\n")", 4)) == "a\\n");
  CHECK(joined(parse_python_strings("x = \"\"\"\nline 1\n'quoted' {name}\n\"\"\".strip()", 4)) == "\nline 1\n'quoted' {name}\n");
  size_t end = 0;
  std::string src = "return (False,\n  \"one \"  # a comment\n  'two'\n)";
  CHECK(joined(parse_python_strings(src, src.find('"'), &end)) == "one two");
  CHECK(src.substr(end) == ")");
}

TEST_CASE("python literals: f-string fields, nested quotes, doubled braces and format specs") {
  auto pieces = parse_python_strings(R"(f"found {len(calls)}: {', '.join(names)}. {{literal}} {i:6}" "tail")", 0);
  REQUIRE(pieces.size() == 7);
  CHECK(pieces[1].field);
  CHECK(pieces[1].text == "len(calls)");
  CHECK(pieces[3].text == "', '.join(names)");
  CHECK(pieces[4].text == ". {literal} ");
  CHECK(pieces[5].text == "i");
  CHECK(pieces[6].text == "tail");
}

TEST_CASE("python literals: no literal, or an unclosed one, is an error") {
  CHECK_THROWS_AS(parse_python_strings("x = foo()", 4), CwmImportError);
  CHECK_THROWS_AS(parse_python_strings("x = \"open", 4), CwmImportError);
  CHECK_THROWS_AS(parse_python_strings("x = f\"{open\"", 4), CwmImportError);
}

TEST_CASE("import-cwm: a directory that is not a CWM checkout is an error naming the file") {
  auto dir = std::filesystem::temp_directory_path() / "swebox-cwm-wording-empty";
  std::filesystem::create_directories(dir);
  try {
    swebox::tools::import_cwm_wording(dir.string());
    FAIL("no error");
  } catch (const CwmImportError& e) {
    CHECK(std::string(e.what()).find("cwm/rl/envs/envs/swerl_tool.py") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("import-cwm: every prompt and notice from a CWM checkout, loadable as a template set") {
  const char* cwm = std::getenv("SWEBOX_CWM_DIR");
  if (!cwm || !*cwm) {
    MESSAGE("skipped: SWEBOX_CWM_DIR is not set (a checkout of facebookresearch/cwm, outside this repository)");
    return;
  }
  auto texts = swebox::tools::import_cwm_wording(cwm);
  swebox::tools::Templates shipped = swebox::tools::load_templates();
  auto out = std::filesystem::temp_directory_path() / "swebox-cwm-wording-set";
  std::filesystem::remove_all(out);
  for (const auto& [key, text] : texts) {
    CHECK(shipped.has(key));  // every imported text replaces one of ours
    auto file = out / (key + ".txt");
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text << '\n';
  }
  CHECK(texts.size() == 37);
  // edit_not_utf8 is CWM's plugin's own traceback under the host's python3, with CWM's mount path.
  CHECK(texts["tools/edit_not_utf8"].rfind("Traceback (most recent call last):\n", 0) == 0);
  CHECK(texts["tools/edit_not_utf8"].find("\"/swerl-plugins/edit.py\"") != std::string::npos);
  swebox::tools::Templates set = swebox::tools::load_templates(out.string());
  // Rendering needs every placeholder filled: the imported texts use only the names we supply.
  swebox::tools::PromptConfig config;
  std::string system = swebox::tools::system_prompt({"bash", "edit", "create", "submit"}, config, set);
  CHECK(system.find("<tool: edit>") != std::string::npos);
  CHECK(system.find("{") == std::string::npos);
  CHECK(set.render("tools/edit_many_matches", {{"path", "a.py"}, {"lines", "1, 3"}}).find("[1, 3]") != std::string::npos);
  std::filesystem::remove_all(out);
}
