// Shared by the runner tests: start the real `swebox run` as a child process, wait for it, read
// what it wrote.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "runner_fixture.h"

namespace swebox::test {

// Starts `swebox run ARGS` with stdout and stderr going to `log` (appended to, or truncated first);
// returns the pid.
inline pid_t spawn_run(const std::vector<std::string>& args, const std::string& log, bool append = true) {
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    static std::string bin = SWEBOX_BINARY, run = "run";
    argv.push_back(bin.data());
    argv.push_back(run.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// The child's exit status, or 128 + the signal that ended it.
inline int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline std::string slurp(const std::string& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Ran {
  int rc;
  std::string log;
};

// `swebox run` on the fixture suite (or `suite`) into `out`, waited for; the log is `out`.log.
inline Ran run_on_fixture(const std::string& out, const std::string& policy, std::vector<std::string> extra,
                          std::string suite = "") {
  auto& f = runner_fixture();
  std::vector<std::string> a = {"--suite", suite.empty() ? f.suite : suite, "--repos", f.repos, "--out", out,
                                "--cache", f.cache, "--policy", policy};
  a.insert(a.end(), extra.begin(), extra.end());
  std::string log = out + ".log";
  int rc = wait_exit(spawn_run(a, log, false));
  return {rc, slurp(log)};
}

inline std::string scratch(const std::string& name) { return runner_fixture().scratch + "/" + name; }

}  // namespace swebox::test
