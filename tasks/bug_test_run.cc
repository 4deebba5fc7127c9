#include "tasks/bug_test_run.h"

#include <algorithm>
#include <chrono>
#include <set>

#include <boost/asio/io_context.hpp>

#include "tasks/evaluation.h"
#include "tasks/patch_apply.h"
#include "tasks/workspace_cache.h"

namespace swebox::tasks {

namespace {

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The environment every step runs with: the table's PATH and variables, `python`/`python3` as its
// interpreter, git content with the root-owned tree.
std::string prelude(const Environment& env) {
  std::string p = "export HOME=/tmp LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONDONTWRITEBYTECODE=1\n";
  p += "export PATH=/tmp/.swebox-bin:" + env.path + "\n";
  for (const auto& [k, v] : env.env) p += "export " + k + "=" + quoted(v) + "\n";
  if (!env.interpreter.empty())
    p += "mkdir -p /tmp/.swebox-bin && ln -sf " + quoted(env.interpreter) + " /tmp/.swebox-bin/python && ln -sf " +
         quoted(env.interpreter) + " /tmp/.swebox-bin/python3\n";
  p += "git config --global --add safe.directory /testbed 2>/dev/null\n";
  return p;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

size_t BugTestRun::passed_count() const {
  if (!results) return 0;
  return static_cast<size_t>(std::count_if(results->begin(), results->end(), [](const auto& kv) { return kv.second; }));
}

bool BugTestRun::passed(const std::string& id) const {
  if (!results) return false;
  auto it = results->find(id);
  return it != results->end() && it->second;
}

std::optional<std::map<std::string, bool>> parse_parser_output(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<std::map<std::string, bool>> {
    if (error) *error = why;
    return std::nullopt;
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) return fail("the parser's output is not JSON");
  if (!j.is_object()) return fail("the parser's output is not a JSON object {test id: \"passed\"|\"failed\"}");
  if (j.empty()) return fail("the parser reported no tests");
  std::map<std::string, bool> out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) return fail("test " + it.key() + ": the status is not a string");
    std::string v = lower(it.value().get<std::string>());
    if (v != "passed" && v != "failed")
      return fail("test " + it.key() + ": status \"" + it.value().get<std::string>() + "\" is neither passed nor failed");
    out[it.key()] = v == "passed";
  }
  return out;
}

BugTestRunner::BugTestRunner(Options options) : options_(std::move(options)) {
  WorkspaceCache::Options cache;
  cache.repos_dir = options_.repos_dir;
  cache.cache_dir = options_.cache_dir.empty() ? default_workspace_cache_dir() : options_.cache_dir;
  WorkspaceCache trees(cache);
  tree_ = trees.base_tree(options_.repo, options_.original_commit);
}

size_t BugTestRunner::runs_done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

size_t BugTestRunner::runs_cached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

BugTestRun BugTestRunner::run(const BugArtifact& artifact, const BugTreeState& requested) {
  BugTreeState state = requested;
  std::sort(state.revert_files.begin(), state.revert_files.end());
  // Reverting every file of the bug, without the weakening, is the original tree.
  if (state.bug && !state.weaken && !state.revert_files.empty()) {
    std::vector<std::string> files;
    try {
      files = patch_files(artifact.bug_diff);
    } catch (const std::exception&) {
    }
    std::sort(files.begin(), files.end());
    if (!files.empty() && std::includes(state.revert_files.begin(), state.revert_files.end(), files.begin(), files.end()))
      state = BugTreeState{};
  }
  std::string key = artifact.test_script + '\0' + artifact.test_parser + '\0';
  if (state.bug) key += "bug\0" + artifact.bug_diff + '\0';
  if (state.weaken) key += "weaken\0" + artifact.weaken_diff + '\0';
  for (const auto& f : state.revert_files) key += "revert\0" + f + '\0';
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      ++cached_;
      BugTestRun r = it->second;
      r.cached = true;
      return r;
    }
  }
  BugTestRun r = run_uncached(artifact, state);
  std::lock_guard<std::mutex> lock(mutex_);
  ++done_;
  if (!r.infra_failure) cache_.emplace(key, r);
  return r;
}

sandbox::ExecResult BugTestRunner::run_python_helper(const std::string& script, const std::vector<std::string>& args,
                                                    const std::string& stdin_data, double timeout_s) {
  boost::asio::io_context io;
  sandbox::Config config;
  config.workspace_lowers = {tree_};
  config.workspace_mount = "/testbed";
  config.system_paths = system_paths(options_.environment);
  config.network = sandbox::Network::none;
  config.limits = evaluation_limits();
  config.hostname = "swebox-selfplay";
  auto box = sandbox::make_sandbox(io, config, sandbox::Backend::native);
  const std::string path = "/tmp/.swebox-ssr-helper.py";
  if (auto err = box->write_file(path, script)) throw std::runtime_error("writing the helper: " + err->message);
  std::string command = prelude(options_.environment) + "cd /testbed\nexec python3 " + path;
  for (const auto& a : args) command += " " + quoted(a);
  sandbox::ExecRequest req;
  req.argv = {"/bin/bash", "-c", command};
  req.stdin_data = stdin_data;
  req.cwd = "/testbed";
  req.timeout_s = timeout_s;
  sandbox::ExecResult r = box->exec(req);
  box->destroy();
  return r;
}

BugTestRun BugTestRunner::run_uncached(const BugArtifact& artifact, const BugTreeState& state) {
  auto t0 = std::chrono::steady_clock::now();
  BugTestRun r;
  auto infra = [&](const std::string& why) {
    r.infra_failure = true;
    r.infra_reason = why;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  for (const auto& f : state.revert_files)
    if (!is_safe_repo_path(f)) return infra("unsafe path to revert: " + f);

  boost::asio::io_context io;
  sandbox::Config config;
  config.workspace_lowers = {tree_};
  config.workspace_mount = "/testbed";
  config.system_paths = system_paths(options_.environment);
  config.network = sandbox::Network::none;
  config.limits = evaluation_limits();
  config.hostname = "swebox-selfplay";
  std::unique_ptr<sandbox::Sandbox> box;
  try {
    box = sandbox::make_sandbox(io, config, sandbox::Backend::native);
  } catch (const std::exception& e) {
    return infra(std::string("sandbox: ") + e.what());
  }
  const std::string dir = "/tmp/.swebox-ssr";  // a prefix: files are /tmp/.swebox-ssr-NAME
  std::string env = prelude(options_.environment);
  try {
    for (const auto& [name, text] : {std::pair<std::string, const std::string*>{"test_script.sh", &artifact.test_script},
                                     {"test_parser.py", &artifact.test_parser},
                                     {"bug.diff", &artifact.bug_diff},
                                     {"weaken.diff", &artifact.weaken_diff}}) {
      if (auto err = box->write_file(dir + "-" + name, *text)) return infra("writing " + name + ": " + err->message);
    }
    // The state: the bug, files of it put back, the weakening; a diff that does not apply here is
    // the artifact's fault but no test verdict, so it is reported as the run's failure.
    std::string setup = env + "set -e\ncd /testbed\n";
    if (state.bug) setup += "git apply --whitespace=nowarn " + dir + "-bug.diff\n";
    for (const auto& f : state.revert_files)
      setup += "git checkout HEAD -- " + quoted(f) + " 2>/dev/null || rm -f -- " + quoted(f) + "\n";
    if (state.weaken && !artifact.weaken_diff.empty()) setup += "git apply --whitespace=nowarn " + dir + "-weaken.diff\n";
    sandbox::ExecRequest req;
    req.argv = {"/bin/bash", "-s"};
    req.stdin_data = setup;
    req.cwd = "/testbed";
    req.timeout_s = 120;
    req.merge_stderr = true;
    sandbox::ExecResult prepared = box->exec(req);
    if (prepared.status() != 0) {
      box->destroy();
      r.setup_error = "the state could not be made (a diff that does not apply): " + prepared.out.substr(0, 2000);
      r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return r;
    }

    req.argv = {"/bin/bash", "-c", env + "cd /testbed\nexec /bin/bash " + dir + "-test_script.sh"};
    req.stdin_data.clear();
    req.timeout_s = options_.script_timeout_s;
    sandbox::ExecResult tests = box->exec(req);
    if (tests.reason == sandbox::StopReason::error) {
      box->destroy();
      return infra("the test script could not run: " + tests.detail);
    }
    r.timed_out = tests.reason == sandbox::StopReason::timeout;
    r.status = tests.status();
    r.output = tests.out;

    if (auto err = box->write_file(dir + "-output.txt", r.output)) return infra("writing the test output: " + err->message);
    req.argv = {"/bin/bash", "-c", env + "cd /testbed\nexec python3 " + dir + "-test_parser.py < " + dir + "-output.txt"};
    req.timeout_s = options_.parser_timeout_s;
    req.merge_stderr = false;
    sandbox::ExecResult parsed = box->exec(req);
    box->destroy();
    if (parsed.reason == sandbox::StopReason::timeout) {
      r.parse_error = "the parser ran past " + std::to_string(static_cast<int>(options_.parser_timeout_s)) + " s";
    } else if (parsed.status() != 0) {
      r.parse_error = "the parser exited with status " + std::to_string(parsed.status()) + ": " + parsed.err.substr(0, 500);
    } else {
      r.results = parse_parser_output(parsed.out, &r.parse_error);
    }
  } catch (const std::exception& e) {
    return infra(std::string("sandbox: ") + e.what());
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace swebox::tasks
