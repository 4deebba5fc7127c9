// Many sandboxes made at once from many threads, over configs that alternate, each used right
// after it was made. (This once found spares handed out dead: a discarded spare's late teardown
// killed the next one, which had the same names.)
#include <doctest/doctest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sys/mount.h>
#include <thread>
#include <unistd.h>

#include "sandbox/sandbox.h"

namespace sb = swebox::sandbox;
namespace fs = std::filesystem;

namespace {

struct Lowers {
  std::vector<fs::path> dirs;
  explicit Lowers(int n) {
    for (int i = 0; i < n; ++i) {
      fs::path d = fs::temp_directory_path() / ("swebox-concurrent-" + std::to_string(getpid()) + "-" + std::to_string(i));
      fs::create_directories(d);
      std::ofstream(d / "marker") << "config " << i << "\n";
      dirs.push_back(d);
    }
  }
  ~Lowers() {
    for (auto& d : dirs) fs::remove_all(d);
  }
};

sb::ExecResult make_sandbox_and_run(boost::asio::io_context& io, const sb::Config& c, const std::string& command) {
  auto box = sb::make_sandbox(io, c);
  sb::ExecResult r = box->run(command, 20);
  box->destroy();
  return r;
}

sb::ExecRequest true_request() {
  sb::ExecRequest req;
  req.argv = {"true"};
  return req;
}

}  // namespace

TEST_CASE("64 sandboxes made at once from 16 threads over 2 configs all answer right away, 4 rounds") {
  Lowers lowers(2);
  boost::asio::io_context io;
  std::mutex mu;
  std::map<std::string, int> failures;  // by what went wrong
  int ok = 0;
  for (int round = 0; round < 4; ++round) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 16; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < 4; ++k) {
          int which = (t + k) % 2;
          sb::Config c;
          c.workspace_lowers = {lowers.dirs[which].string()};
          std::string what;
          try {
            auto box = sb::make_sandbox(io, c);
            sb::ExecResult r = box->run("cat /testbed/marker", 20);
            if (r.out != "config " + std::to_string(which) + "\n")
              what = std::string("run: ") + sb::to_string(r.reason) + " " + r.detail + " out=" + r.out;
            else if (auto e = box->write_file("/testbed/made.txt", "x"))
              what = "write_file: " + e->message;
            else if (box->exec(true_request()).exit_code != 0)
              what = "exec true failed";
            box->destroy();
          } catch (const std::exception& e) {
            what = std::string("make_sandbox: ") + e.what();
          }
          std::lock_guard lock(mu);
          if (what.empty()) ++ok;
          else ++failures[what];
        }
      });
    }
    for (auto& th : threads) th.join();
  }
  std::string report;
  for (const auto& [what, n] : failures) report += "\n  " + std::to_string(n) + "x " + what;
  CHECK_MESSAGE(failures.empty(), "failures:", report);
  CHECK(ok == 256);
}

TEST_CASE("a sandbox made ahead of time for a repeated config starts fresh") {
  Lowers lowers(1);
  boost::asio::io_context io;
  sb::Config c;
  c.workspace_lowers = {lowers.dirs[0].string()};
  // The same config three times in a row: the third comes from a spare made ahead.
  for (int i = 0; i < 3; ++i) {
    auto box = sb::make_sandbox(io, c);
    sb::ExecResult r = box->run("ls /testbed /tmp; echo $((++counter)); echo left > /testbed/left-" +
                                    std::to_string(i) + "; echo left > /tmp/left-" + std::to_string(i),
                                20);
    CHECK_MESSAGE(r.out == "/testbed:\nmarker\n\n/tmp:\n1\n", "sandbox ", i, " saw: ", r.out);
    CHECK(r.exit_code == 0);
    box->destroy();
  }
  CHECK_FALSE(fs::exists(lowers.dirs[0] / "left-0"));
  sb::release_spare_sandboxes();
}

TEST_CASE("a sandbox sees a workspace on a mount made after the sandboxes made ahead of time") {
  if (geteuid() != 0) {
    MESSAGE("skipped: mounting a tmpfs needs root");
    return;
  }
  Lowers lowers(1);
  boost::asio::io_context io;
  sb::Config c;
  c.workspace_lowers = {lowers.dirs[0].string()};
  // In use: a shell (and a spare) are made ahead from a copy of the mount table as it is now.
  for (int i = 0; i < 3; ++i) make_sandbox_and_run(io, c, "true");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  fs::path mnt = fs::temp_directory_path() / ("swebox-late-mount-" + std::to_string(getpid()));
  fs::create_directories(mnt);
  REQUIRE(mount("swebox-late", mnt.c_str(), "tmpfs", 0, "size=1m") == 0);
  std::ofstream(mnt / "on-the-new-mount") << "yes\n";
  sb::Config late;
  late.workspace_lowers = {mnt.string()};
  sb::ExecResult r = make_sandbox_and_run(io, late, "cat /testbed/on-the-new-mount");
  CHECK_MESSAGE(r.out == "yes\n", "the sandbox saw: ", r.out, r.detail);
  umount2(mnt.c_str(), MNT_DETACH);
  fs::remove_all(mnt);
  sb::release_spare_sandboxes();
}
