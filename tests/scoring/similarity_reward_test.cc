// SWE-RL similarity rewards: differential tests against a Python restatement of docs/formats.md §5.1
// (scripts/difflib_oracle.py, which uses the real difflib), plus one test per rule.
#include <doctest/doctest.h>

#include <cstring>
#include <random>

#include "tasks/similarity_reward.h"
#include "tests/scoring/oracle.h"

using namespace swebox::tasks;
using nlohmann::json;

namespace {

// Old and new text of each file a patch touches, from its hunks (context and removed lines give
// the old side, context and added lines the new side): realistic code for the search/replace form.
struct FileSides {
  std::string path, old_text, new_text;
  std::vector<std::pair<std::string, std::string>> hunks;  // (old, new) per hunk
};

std::vector<FileSides> sides_of(const std::string& patch) {
  std::vector<FileSides> out;
  std::stringstream ss(patch);
  std::string line;
  bool in_hunk = false;
  while (std::getline(ss, line)) {
    if (line.rfind("diff --git a/", 0) == 0) {
      out.push_back({line.substr(13, line.find(" b/") - 13), "", "", {}});
      in_hunk = false;
    } else if (!out.empty() && line.rfind("@@ ", 0) == 0) {
      out.back().hunks.emplace_back();
      in_hunk = true;
    } else if (in_hunk && !line.empty() && (line[0] == ' ' || line[0] == '-' || line[0] == '+')) {
      std::string text = line.substr(1) + "\n";
      auto& h = out.back().hunks.back();
      if (line[0] != '+') h.first += text, out.back().old_text += text;
      if (line[0] != '-') h.second += text, out.back().new_text += text;
    }
  }
  return out;
}

std::string block(const std::string& path, const std::string& search, const std::string& replace) {
  return "```python\n### " + path + "\n<<<<<<< SEARCH\n" + search + "\n=======\n" + replace + "\n>>>>>>> REPLACE\n```\n";
}

std::string chop(std::string s) {  // the regex groups exclude the final newline
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

void check_same(const SimilarityResult& got, const json& expected) {
  double want = scoring_test::from_hex(expected["reward"]);
  CHECK(std::memcmp(&want, &got.reward, sizeof want) == 0);
  REQUIRE(got.files.size() == expected["files"].size());
  for (size_t i = 0; i < got.files.size(); ++i) {
    CHECK(got.files[i].path == expected["files"][i][0]);
    double s = scoring_test::from_hex(expected["files"][i][1]);
    CHECK(std::memcmp(&s, &got.files[i].similarity, sizeof s) == 0);
  }
}

}  // namespace

TEST_CASE("search/replace reward matches the Python restatement on edits built from real patches") {
  if (!scoring_test::python_available()) {
    MESSAGE("skipped: /usr/bin/python3 is not installed");
    return;
  }
  auto patches = scoring_test::shared_patches(250);
  if (patches.empty()) {
    MESSAGE("skipped: no SWE-bench data under " << scoring_test::shared_dir());
    return;
  }
  std::mt19937 rng(11);
  json cases = json::array();
  std::vector<std::tuple<FileContents, FileContents, std::string>> inputs;
  for (size_t k = 0; k < patches.size(); ++k) {
    auto files = sides_of(patches[k]);
    if (files.empty()) continue;
    FileContents original, oracle;
    for (auto& f : files) original[f.path] = f.old_text, oracle[f.path] = f.new_text;
    std::string solution;
    int variant = k % 8;
    for (auto& f : files) {
      for (auto& [old_h, new_h] : f.hunks) {
        std::string replace = chop(new_h);
        if (variant == 1 || variant == 2) replace = scoring_test::mutate(new_h, rng);  // a partly right fix
        if (variant == 3) replace += "\n# extra line";
        std::string search = chop(old_h);
        if (variant == 4) search += "\nnot in the file";  // search not found -> -1
        if (variant == 5) replace = search;                // identical -> -1
        solution += block(variant == 6 ? "other/" + f.path : f.path, search, replace);
      }
    }
    std::string output = "<think>\nLook at the code.\n</think>\n<solution>\n" + solution + "</solution>";
    if (variant == 7) {
      int fault = static_cast<int>(k / 8 % 4);
      if (fault == 0) output = "<think>  \n</think><solution>" + solution + "</solution>";  // blank thought
      if (fault == 1) output += "<solution>";                                              // two openings
      if (fault == 2) output = "<think>x</think><solution>no blocks here</solution>";
      if (fault == 3) output = "<think>x</think>" + solution;                              // no solution tags
    }
    cases.push_back({{"original", original}, {"oracle", oracle}, {"output", output}});
    inputs.emplace_back(original, oracle, output);
  }
  json answers = scoring_test::run_oracle("search_replace", cases);
  REQUIRE(answers.size() == inputs.size());
  size_t errors = 0, perfect = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto& [original, oracle, output] = inputs[k];
    INFO("case " << k << " python error: " << answers[k]["error"]);
    SimilarityResult got = search_replace_reward(original, oracle, output);
    CHECK(got.format_ok() == answers[k]["error"].get<std::string>().empty());
    check_same(got, answers[k]);
    errors += !got.format_ok();
    perfect += got.reward == 1.0;
  }
  // The variants must exercise both sides of the format rules and the full score.
  CHECK(errors > inputs.size() / 8);
  CHECK(perfect > inputs.size() / 10);
}

TEST_CASE("unidiff reward matches the Python restatement on real patches, edited patches and extra files") {
  if (!scoring_test::python_available()) {
    MESSAGE("skipped: /usr/bin/python3 is not installed");
    return;
  }
  auto patches = scoring_test::shared_patches(400);
  auto tests = scoring_test::shared_patches(400, "test_patch");
  if (patches.empty()) {
    MESSAGE("skipped: no SWE-bench data under " << scoring_test::shared_dir());
    return;
  }
  std::mt19937 rng(3);
  json cases = json::array();
  std::vector<std::tuple<std::string, std::string, bool>> inputs;
  for (size_t k = 0; k < patches.size(); ++k) {
    std::string pred;
    switch (k % 5) {
      case 0: pred = patches[k]; break;
      case 1: {  // same shape, different added text: the hunk counts stay right
        std::stringstream ss(patches[k]);
        std::string line;
        while (std::getline(ss, line)) {
          if (line.size() > 1 && line[0] == '+' && line[1] != '+') line += " + 1";
          pred += line + "\n";
        }
        break;
      }
      case 2: pred = patches[k] + tests[k]; break;                    // extra files
      case 3: pred = tests[(k + 1) % tests.size()]; break;             // unrelated files
      case 4: pred = scoring_test::mutate(patches[k], rng); break;     // usually unparsable
    }
    bool ignore = k % 2 == 0;
    cases.push_back({{"oracle", patches[k]}, {"pred", pred}, {"ignore_non_oracle", ignore}});
    inputs.emplace_back(patches[k], pred, ignore);
  }
  json answers = scoring_test::run_oracle("unidiff", cases);
  REQUIRE(answers.size() == inputs.size());
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto& [oracle, pred, ignore] = inputs[k];
    INFO("case " << k);
    check_same(unidiff_reward(oracle, pred, ignore), answers[k]);
  }
}

TEST_CASE("unidiff normalisation keeps explicit hunk lengths, the section and a rename line") {
  std::string patch =
      "diff --git a/old.py b/new.py\n"
      "similarity index 90%\n"
      "rename from old.py\n"
      "rename to new.py\n"
      "index 1111111..2222222 100644\n"
      "--- a/old.py\n"
      "+++ b/new.py\n"
      "@@ -3 +3 @@ def f():\n"
      "-    return 1\n"
      "+    return 2\n"
      "\\ No newline at end of file\n"
      "diff --git a/img.png b/img.png\n"
      "index 1111111..2222222 100644\n"
      "Binary files a/img.png and b/img.png differ\n"
      "diff --git a/added.txt b/added.txt\n"
      "new file mode 100644\n"
      "--- /dev/null\n"
      "+++ b/added.txt\n"
      "@@ -0,0 +1,2 @@\n"
      "+x\n"
      "+y\n";
  FileContents files = normalized_patch_files(patch);
  REQUIRE(files.size() == 2);  // the binary file is skipped
  CHECK(files.at("old.py") ==
        "rename from old.py to new.py\n@@ -3,1 +3,1 @@ def f():\n-    return 1\n+    return 2\n\\ No newline at end of file");
  CHECK(files.at("added.txt") == "@@ -0,0 +1,2 @@\n+x\n+y");
}

TEST_CASE("a patch unidiff would reject gives no files, so every oracle file scores 0") {
  std::string oracle = "--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,2 @@\n-a\n+b\n c\n";
  std::string too_short = "--- a/f.py\n+++ b/f.py\n@@ -1,3 +1,3 @@\n-a\n+b\n c\n";
  CHECK(normalized_patch_files(too_short).empty());
  CHECK(normalized_patch_files("+++ b/f.py\n@@ -1 +1 @@\n-a\n+b\n").empty());  // target before any source
  SimilarityResult r = unidiff_reward(oracle, too_short);
  CHECK(r.reward == 0.0);
  REQUIRE(r.files.size() == 1);
  CHECK(r.files[0].pred_change.empty());
  CHECK(unidiff_reward(oracle, oracle).reward == 1.0);
}

TEST_CASE("header lines of any length parse in linear time, without recursion") {
  // std::regex recursed per character and backtracked in cubic time: an agent's patch with a long
  // "diff --git" URI-like or "Binary files" line overflowed the runner's stack or held it for
  // minutes (fuzz/corpus/unidiff/crash-*).
  const std::string name(2'000'000, 'x');
  std::string uri = "diff --git a://" + name + " b://y\n--- a://" + name + "\n+++ b://y\n@@ -1 +1 @@\n-a\n+b\n";
  FileContents files = normalized_patch_files(uri);
  REQUIRE(files.size() == 1);
  CHECK(files.begin()->first == "a://" + name);
  CHECK(files.begin()->second == "rename from a://" + name + " to b://y\n@@ -1,1 +1,1 @@\n-a\n+b");

  std::string spaced = "diff --git a://";
  for (int i = 0; i < 20000; ++i) spaced += "x y";
  CHECK(normalized_patch_files(spaced + "\n").size() == 1);  // not URI-like: the last space splits it

  const std::string oracle = "diff --git a/f.py b/f.py\n--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-a\n+b\n";
  std::string binary = "diff --git a/x.png b/x.png\nBinary files a/x.png and b/" + name + " differ\n";
  SimilarityResult r = unidiff_reward(oracle, oracle + binary);
  CHECK(r.reward == 1.0);  // the binary file is recognised and skipped, the text file still scores
}

TEST_CASE("extra predicted files score 0 unless dropped, and two empty patches score 1") {
  std::string a = "--- a/f.py\n+++ b/f.py\n@@ -1 +1 @@\n-a\n+b\n";
  std::string b = a + "--- a/g.py\n+++ b/g.py\n@@ -1 +1 @@\n-x\n+y\n";
  CHECK(unidiff_reward(a, b).reward == 0.5);
  CHECK(unidiff_reward(a, b, /*ignore_non_oracle_files=*/true).reward == 1.0);
  SimilarityResult empty = unidiff_reward("", "");
  CHECK(empty.reward == 1.0);
  CHECK(empty.files.empty());
}

TEST_CASE("search/replace edits replace every occurrence, anchored at line starts, and a missing file is empty") {
  FileContents original{{"a.py", "x = 1\ny = x = 1\nx = 1\n"}};
  SearchReplaceEdits edits = parse_search_replace(
      "```python\n### a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```\n"
      "```\n### new.py\n<<<<<<< SEARCH\n\n=======\nprint()\n>>>>>>> REPLACE\n```");
  REQUIRE(edits.size() == 2);
  CHECK(edits[1].second[0].search == "");
  FileContents out = apply_search_replace(original, edits);
  CHECK(out.at("a.py") == "x = 2\ny = x = 1\nx = 2\n");  // "y = x = 1" is not at a line start
  CHECK(out.at("new.py") == "print()");                    // "" + "\n" search matches the prepended newline
  CHECK_THROWS_WITH_AS(apply_search_replace(original, parse_search_replace(
                           "```\n### a.py\n<<<<<<< SEARCH\nnope\n=======\nx\n>>>>>>> REPLACE\n```")),
                       "Search block not found in the code: \nnope", std::invalid_argument);
}

TEST_CASE("search/replace reward is -1 with the reason on a format error and 1 for the oracle's own edit") {
  FileContents original{{"a.py", "def f():\n    return 1\n"}};
  FileContents oracle{{"a.py", "def f():\n    return 2\n"}};
  std::string good = "<think>fix it</think><solution>```python\n### a.py\n<<<<<<< SEARCH\n    return 1\n=======\n"
                     "    return 2\n>>>>>>> REPLACE\n```</solution>";
  CHECK(search_replace_reward(original, oracle, good).reward == 1.0);
  SimilarityResult twice = search_replace_reward(original, oracle, good + "</think>");
  CHECK(twice.reward == -1.0);
  CHECK(twice.error == "count of </think> is not 1");
  SimilarityResult blank = search_replace_reward(original, oracle, "<think>\u2028 </think><solution></solution>");
  CHECK(blank.error == "Thought is empty");  // U+2028 is whitespace to Python's strip()
}

TEST_CASE("SEARCH/REPLACE blocks are found exactly where Python's re.findall finds them") {
  if (!scoring_test::python_available()) {
    MESSAGE("skipped: /usr/bin/python3 is not installed");
    return;
  }
  // Texts assembled from the pieces of the block syntax, so that near-misses, empty groups,
  // nested fences and unterminated blocks all occur.
  const std::vector<std::string> pieces = {"```", "```python\n", "### a.py\n", "### b.py", "<<<<<<< SEARCH\n",
                                           "=======\n", ">>>>>>> REPLACE\n", ">>>>>>> REPLACE\n```", "x\n", "\n",
                                           "y", " ", "```\n", "\u00e9\n", "x\n=======\n", "y\n>>>>>>> REPLACE\n```"};
  std::mt19937 rng(17);
  nlohmann::json cases = nlohmann::json::array();
  for (int k = 0; k < 3000; ++k) {
    std::string text;
    size_t n = 4 + rng() % 14;
    if (k % 2 == 0) text = "```python\n### a.py\n<<<<<<< SEARCH\n";  // start most like a block
    for (size_t i = 0; i < n; ++i) text += pieces[rng() % pieces.size()];
    cases.push_back(text);
  }
  nlohmann::json answers = scoring_test::run_oracle("findall", cases);
  REQUIRE(answers.size() == cases.size());
  size_t found = 0;
  for (size_t k = 0; k < cases.size(); ++k) {
    INFO("text " << cases[k].dump());
    nlohmann::json got = nlohmann::json::array();
    for (const auto& [path, edits] : parse_search_replace(cases[k].get<std::string>()))
      for (const auto& e : edits) got.push_back({path, e.search, e.replace});
    // Python lists matches in text order; the C++ side groups them by path (first appearance), as
    // SWE-RL's dict does, so compare after the same grouping.
    nlohmann::json want = nlohmann::json::array();
    std::vector<std::string> order;
    for (const auto& m : answers[k])
      if (std::find(order.begin(), order.end(), m[0].get<std::string>()) == order.end()) order.push_back(m[0]);
    for (const auto& path : order)
      for (const auto& m : answers[k])
        if (m[0] == path) want.push_back(m);
    CHECK(got == want);
    found += want.size();
  }
  CHECK(found > 300);  // the generator must produce real blocks, not only misses
}

TEST_CASE("unidiff normalisation agrees with the real unidiff package on real, damaged and random patches") {
  if (!scoring_test::python_available()) {
    MESSAGE("skipped: /usr/bin/python3 is not installed");
    return;
  }
  auto patches = scoring_test::shared_patches(300);
  auto tests = scoring_test::shared_patches(300, "test_patch");
  const std::vector<std::string> pieces = {
      "diff --git a/x.py b/x.py\n", "diff --git a/x.py b/y.py\n", "--- a/x.py\n", "+++ b/x.py\n", "--- /dev/null\n",
      "+++ /dev/null\n", "new file mode 100644\n", "deleted file mode 100644\n", "@@ -1 +1 @@\n",
      "@@ -1,2 +1,2 @@ def f():\n", "@@ -0,0 +1 @@\n", "-a\n", "+b\n", " c\n", "\n", "\\ No newline at end of file\n",
      "index 123..456 100644\n", "Binary files a/x.png and b/x.png differ\n", "rename from x.py\n", "rename to y.py\n",
      " d\r\n", "\r\n", "+e", "diff --git a/p q.py b/p q.py\n", "--- a/x.py\t2020-01-01\n", "garbage\n"};
  std::mt19937 rng(8);
  nlohmann::json cases = nlohmann::json::array();
  for (size_t k = 0; k < patches.size(); ++k) {
    cases.push_back(patches[k]);
    cases.push_back(tests[k]);
    cases.push_back(scoring_test::mutate(patches[k], rng));
    std::string random;
    for (size_t n = 2 + rng() % 14; n > 0; --n) random += pieces[rng() % pieces.size()];
    cases.push_back(random);
  }
  nlohmann::json answers = scoring_test::run_oracle("real_unidiff", cases);
  if (answers.is_null()) {
    MESSAGE("skipped: the Python package 'unidiff' is not importable (set SWEBOX_UNIDIFF_PATH to a copy of unidiff 0.7.5)");
    return;
  }
  if (answers.is_object() && answers.contains("__version__")) {
    MESSAGE("skipped: the Python package 'unidiff' found is version " << answers["__version__"].get<std::string>()
            << "; CWM's normalisation is unidiff 0.7.5's (set SWEBOX_UNIDIFF_PATH to a copy of 0.7.5)");
    return;
  }
  REQUIRE(answers.size() == cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    INFO("patch " << cases[k].dump());
    nlohmann::json want = answers[k];
    if (want.contains("__exception__")) want = nlohmann::json::object();  // CWM would crash; we score it as unparsable
    CHECK(nlohmann::json(normalized_patch_files(cases[k].get<std::string>())) == want);
  }
}
