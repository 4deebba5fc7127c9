#include "tasks/test_spec.h"

#include <regex>
#include <sstream>

namespace swebox::tasks {

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string single_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

// Lines that only make sense in SWE-bench's conda images: activation and package installation.
const std::regex kCondaLine(R"(^\s*(source\s+\S*/bin/activate\b|conda\s+activate\b|conda\s+deactivate\b).*)");
const std::regex kInstallLine(
    R"(^\s*((python[0-9.]*\s+-m\s+)?pip[0-9.]*\s+install\b|python[0-9.]*\s+setup\.py\s+(develop|install|build_ext)\b|conda\s+install\b).*)");
// A heredoc opener, e.g. `git apply -v - <<'EOF_114329324912'`; its body is data, never rewritten.
const std::regex kHeredoc(R"(<<-?\s*['"]?([A-Za-z_][A-Za-z0-9_]*)['"]?)");

// Turns tracing off without a trace of doing so, and back on only if it was on.
const char* kQuietOn = "{ _swebox_x=$-; set +x; } 2>/dev/null; ";
const char* kQuietOff = "; if [[ $_swebox_x == *x* ]]; then set -x; fi";

std::string prelude(const Environment& env) {
  std::string p = "# swebox: the host environment (tasks/environments.json"
                  + std::string(env.known ? ", " + env.repo + " " + env.version : ", defaults") + ")\n";
  p += "export PATH=/tmp/.swebox-bin:" + env.path + "\n";
  for (const auto& [k, v] : env.env) p += "export " + k + "=" + single_quoted(v) + "\n";
  if (!env.interpreter.empty())
    p += "mkdir -p /tmp/.swebox-bin && ln -sf " + single_quoted(env.interpreter) +
         " /tmp/.swebox-bin/python && ln -sf " + single_quoted(env.interpreter) + " /tmp/.swebox-bin/python3\n";
  return p;
}

// What replaces the install step: generated files, then the table's set-up lines.
std::vector<std::string> offline_setup(const Environment& env) {
  std::vector<std::string> lines;
  lines.push_back("# swebox: install step replaced by the environment table's offline set-up");
  for (const auto& [path, content] : env.files) {
    lines.push_back("cat > " + single_quoted(path) + " <<'EOF_SWEBOX_GENERATED_FILE'");
    for (auto& l : split_lines(content)) lines.push_back(l);
    lines.push_back("EOF_SWEBOX_GENERATED_FILE");
  }
  for (const auto& l : env.setup) lines.push_back(l);
  return lines;
}

bool is_marker(const std::string& line, std::string_view marker) {
  size_t at = line.find(marker);
  return at != std::string::npos && line.find(':') < at;
}

}  // namespace

std::vector<std::string> modified_test_files(const std::string& test_patch) {
  std::vector<std::string> files;
  static const std::regex re(R"(^--- a/(.*)$)");
  std::smatch m;
  for (const auto& line : split_lines(test_patch))
    if (std::regex_match(line, m, re)) files.push_back(m[1]);
  return files;
}

std::vector<std::string> test_directives(const std::string& test_patch, const Environment& env) {
  std::vector<std::string> out;
  static const std::regex re(R"(^diff --git a/.* b/(.*)$)");
  std::smatch m;
  for (const auto& line : split_lines(test_patch)) {
    if (!std::regex_match(line, m, re)) continue;
    std::string d = m[1];
    bool excluded = false;
    for (const auto& ext : env.exclude_extensions) excluded = excluded || ends_with(d, ext);
    if (excluded) continue;
    if (env.directives == "django") {
      if (ends_with(d, ".py")) d.resize(d.size() - 3);
      if (d.rfind("tests/", 0) == 0) d = d.substr(6);
      for (char& c : d)
        if (c == '/') c = '.';
    }
    out.push_back(d);
  }
  return out;
}

std::string swebench_eval_script(const Instance& instance, const Environment& env) {
  const std::string& base = instance.base_commit;
  auto files = modified_test_files(instance.test_patch);
  std::string reset = files.empty() ? "" : "git checkout " + base + " " + join(files, " ");
  auto directives = test_directives(instance.test_patch, env);
  std::vector<std::string> lines = {
      "#!/bin/bash",
      "set -uxo pipefail",
      "source /opt/miniconda3/bin/activate",
      "conda activate testbed",
      "cd /testbed",
      "git config --global --add safe.directory /testbed",
      "cd /testbed",
      "git status",
      "git show",
      "git -c core.fileMode=false diff " + base,
      "source /opt/miniconda3/bin/activate",
      "conda activate testbed",
      "python -m pip install -e .",
  };
  if (!reset.empty()) lines.push_back(reset);
  lines.push_back(std::string("git apply -v - <<'") + kTestPatchHeredoc + "'\n" + instance.test_patch +
                  "\n" + kTestPatchHeredoc);
  lines.push_back(": '" + std::string(kStartTestOutput) + "'");
  lines.push_back(env.test_cmd + (directives.empty() ? "" : " " + join(directives, " ")));
  lines.push_back(": '" + std::string(kEndTestOutput) + "'");
  if (!reset.empty()) lines.push_back(reset);
  return join(lines, "\n") + "\n";
}

bool is_plain_pytest_command(const std::string& line) {
  static const std::regex re(
      R"re(^\s*([A-Za-z_][A-Za-z0-9_]*=('[^']*'|"[^"]*"|[^\s'"]*)\s+)*(pytest|py\.test|(\S*/)?python[0-9.]*\s+-m\s+pytest)(\s[^;&|<>`$()\\#]*)?$)re");
  return std::regex_match(line, re) && line.find(" -- ") == std::string::npos;
}

std::string adapt_eval_script(const std::string& script, const Environment& env, std::vector<std::string>* dropped,
                              const EvalScriptOptions& options, TestSpec* spec) {
  std::vector<std::string> in = split_lines(script);
  std::vector<std::string> out;
  size_t i = 0;
  if (!in.empty() && in[0].rfind("#!", 0) == 0) out.push_back(in[i++]);
  for (auto& l : split_lines(prelude(env))) out.push_back(l);
  if (options.sealed) {
    out.push_back("# swebox sealed grading: no bytecode from before the evaluation, none written during it, no user site");
    out.push_back("export PYTHONDONTWRITEBYTECODE=1 PYTHONNOUSERSITE=1");
    out.push_back("find /testbed -path /testbed/.git -prune -o \\( -name __pycache__ -o -name '*.py[co]' \\) -print0 | "
                  "xargs -0r rm -rf --");
  }
  // Sealed: a failed reset of the test files or test patch stops the script (an infrastructure failure).
  const std::string check = std::string("{ _swebox_rc=$?; _swebox_x=$-; set +x; } 2>/dev/null; if [ \"$_swebox_rc\" -ne 0 ]; then echo '") +
                            kSealedSetupFailed + " (status '\"$_swebox_rc\"')'; exit " +
                            std::to_string(kSealedSetupFailedStatus) + "; fi" + kQuietOff;

  bool setup_done = false;
  bool in_tests = false, tests_seen = false;
  bool check_after_heredoc = false;
  std::vector<std::string> test_lines;
  std::string heredoc_end;
  for (; i < in.size(); ++i) {
    const std::string& line = in[i];
    if (!heredoc_end.empty()) {  // inside a heredoc body: data, copied as is
      out.push_back(line);
      if (line == heredoc_end) {
        heredoc_end.clear();
        if (check_after_heredoc) out.push_back(check);
        check_after_heredoc = false;
      }
      continue;
    }
    if (std::regex_match(line, kCondaLine) || std::regex_match(line, kInstallLine)) {
      if (dropped) dropped->push_back(line);
      out.push_back("# swebox: dropped: " + line);
      if (std::regex_match(line, kInstallLine) && !setup_done) {
        for (auto& l : offline_setup(env)) out.push_back(l);
        setup_done = true;
      }
      continue;
    }
    if (!setup_done && !in_tests &&
        (line.rfind("git checkout ", 0) == 0 || line.rfind("git apply", 0) == 0 ||
         is_marker(line, kStartTestOutput))) {
      // No install step in the script: the set-up goes before the test files are touched.
      for (auto& l : offline_setup(env)) out.push_back(l);
      setup_done = true;
    }
    if (is_marker(line, kStartTestOutput)) {
      out.push_back(line);
      out.push_back(std::string(kQuietOn) + "_swebox_t0=$EPOCHREALTIME" + kQuietOff);
      in_tests = tests_seen = true;
      continue;
    }
    if (in_tests && is_marker(line, kEndTestOutput)) {
      // The test command: a JUnit report asked of it when it is one plain pytest command.
      size_t commands = 0;
      for (const auto& l : test_lines) {
        std::string t = l.substr(std::min(l.size(), l.find_first_not_of(" \t")));
        if (!t.empty() && t[0] != '#') ++commands;
      }
      bool junit = false;
      std::string why_not;
      if (spec) spec->test_commands.insert(spec->test_commands.end(), test_lines.begin(), test_lines.end());
      if (!options.junit_path.empty()) {
        if (commands != 1) why_not = "the test command is " + std::to_string(commands) + " lines, not one pytest command";
        for (auto& l : test_lines) {
          std::string t = l.substr(std::min(l.size(), l.find_first_not_of(" \t")));
          if (t.empty() || t[0] == '#') continue;
          if (commands == 1 && is_plain_pytest_command(l)) {
            l += " --junitxml=" + single_quoted(options.junit_path);
            junit = true;
          } else if (commands == 1) {
            why_not = "the test command is not a plain pytest command";
          }
        }
      }
      if (spec) {
        spec->junit = junit;
        spec->junit_why_not = junit ? "" : why_not;
      }
      for (const auto& l : test_lines) out.push_back(l);
      test_lines.clear();
      out.push_back(std::string("{ _swebox_rc=$?; _swebox_x=$-; set +x; } 2>/dev/null; echo \"$_swebox_t0 "
                                "$EPOCHREALTIME $_swebox_rc\" > ") + kTestTimeFile + kQuietOff);
      out.push_back(line);
      out.push_back(std::string(kQuietOn) + "echo \"" + std::string(kTestExitCode) + ": $_swebox_rc\"" + kQuietOff);
      in_tests = false;
      continue;
    }
    if (in_tests) {
      test_lines.push_back(line);
      continue;
    }
    if (line == "git show") {
      // Informational only; the base tree is shallow (no parent), so a plain `git show` would
      // print the whole repository as added (35 MB of log for sympy): show the header alone.
      out.push_back("# swebox: shallow base: `git show` shows the commit header only");
      out.push_back("git show --no-patch");
      continue;
    }
    std::smatch m;
    bool opens_heredoc = std::regex_search(line, m, kHeredoc);
    if (opens_heredoc) heredoc_end = m[1];
    out.push_back(line);
    bool prepares_tests = line.rfind("git checkout ", 0) == 0 || line.rfind("git apply", 0) == 0;
    if (options.sealed && prepares_tests && !tests_seen) {
      if (opens_heredoc) check_after_heredoc = true;
      else out.push_back(check);
    }
  }
  for (const auto& l : test_lines) out.push_back(l);  // no end marker: copied as they were
  return join(out, "\n") + "\n";
}

namespace {

// The instance's parser, else SWE-bench's for the repository when the table does not know it, else the table's.
std::string log_parser_for(const Instance& instance, const Environment& env) {
  std::string parser = instance.log_parser;
  if (parser.empty() && !env.known) parser = parser_for_repo(instance.repo);
  if (parser.empty()) parser = env.log_parser;
  return parser;
}

}  // namespace

TestSpec make_image_test_spec(const Instance& instance, const Environment& env) {
  TestSpec spec;
  spec.instance_id = instance.instance_id;
  spec.env = env;
  spec.log_parser = log_parser_for(instance, env);
  if (!instance.eval_script.empty()) {
    spec.origin = "instance eval_script, unmodified";
    spec.eval_script = instance.eval_script;
  } else {
    spec.origin = "SWE-bench's script built from the environment table's test command, unmodified";
    spec.test_directives = test_directives(instance.test_patch, env);
    spec.eval_script = swebench_eval_script(instance, env);
  }
  return spec;
}

TestSpec make_test_spec(const Instance& instance, const Environment& env, const EvalScriptOptions& options) {
  // SWE-bench's script, then made to run on this host.
  TestSpec spec = make_image_test_spec(instance, env);
  spec.origin = instance.eval_script.empty() ? "built from the environment table" : "instance eval_script";
  spec.eval_script = adapt_eval_script(spec.eval_script, env, &spec.dropped_lines, options, &spec);
  return spec;
}

}  // namespace swebox::tasks
