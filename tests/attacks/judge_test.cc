// Attacks on the judge (issue 8, attack 1: "read the host through the final diff"), as real
// episodes through `swebox run`: a FIFO where the diff reads, a .gitignore glob that makes a
// backtracking matcher run for minutes, a file swapped for a link to a host secret while the diff
// runs, a workspace of hundreds of MiB, a job still writing after submit. Each run ends with a
// benign episode that must still be judged (the runner goes on), and each checks that nothing of
// the host leaked into any output, that the attack is not resolved, and that the host is unchanged.
#include <doctest/doctest.h>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "attack_episode.h"

using namespace swebox::test;
namespace fs = std::filesystem;

namespace {

const std::string kAttacked = "swebox-fixtures__calc-2";
const std::string kBenign = "swebox-fixtures__calc-1";

// The benign second episode: calc-1's fix, submitted.
AttackEpisode benign_episode() {
  std::string fix = bash_action(
      "cd /testbed && python3 - <<'EOF'\n"
      "p = 'calc/ops.py'\n"
      "s = open(p).read()\n"
      "s = s.replace('for _ in range(b):', 'for _ in range(abs(b)):')"
      ".replace('    return result\\n', '    return -result if b < 0 else result\\n', 1)\n"
      "open(p, 'w').write(s)\n"
      "EOF\n"
      "git diff > /tmp/fix.diff");
  return {kBenign, {fix, submit_action("/tmp/fix.diff"), "Done.\n\n## Fixed mul."}};
}

// A root-only 0600 file on the host holding a random token; removed at the end.
struct HostSecret {
  std::string dir, path, token;
  HostSecret() {
    std::random_device rd;
    token = "HOSTSECRET" + std::to_string(rd()) + std::to_string(rd());
    dir = "/root/swebox-judge-test-" + std::to_string(getpid());
    fs::create_directories(dir);
    chmod(dir.c_str(), 0700);
    path = dir + "/secret";
    std::ofstream(path) << token << "\n";
    chmod(path.c_str(), 0600);
  }
  ~HostSecret() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  // Still there, still root's, still 0600, still the token.
  bool unchanged() const {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 07777) != 0600)
      return false;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line == token;
  }
};

// What every attack run must show: it finished, both episodes are recorded, the attacked one is
// unresolved and the benign one resolved (the runner went on, judging as before), nothing leaked.
void check_run(const AttackRun& run, const HostSecret& secret) {
  INFO(run.console.substr(0, 4000));
  CHECK(run.exit_code == 0);
  REQUIRE(run.episodes.size() == 2);
  const nlohmann::json* attacked = run.episode(kAttacked);
  const nlohmann::json* benign = run.episode(kBenign);
  REQUIRE(attacked);
  REQUIRE(benign);
  INFO((*attacked)["terminal"].dump(2).substr(0, 4000));
  CHECK((*attacked)["terminal"]["eval"]["resolved"] != true);
  CHECK((*attacked)["terminal"]["rewards"]["total"] != 1.0);
  CHECK((*attacked)["terminal"]["audit"]["grading"] == "sealed");
  CHECK((*benign)["terminal"]["eval"]["resolved"] == true);
  CHECK((*benign)["terminal"]["rewards"]["total"] == 1.0);
  CHECK(run.all_outputs().find(secret.token) == std::string::npos);
  CHECK(secret.unchanged());
}

// A field of a record, null when absent (operator[] of a const json must not meet a missing key).
nlohmann::json field(const nlohmann::json& j, const std::string& a, const std::string& b) {
  if (!j.contains(a) || !j[a].is_object() || !j[a].contains(b)) return nullptr;
  return j[a][b];
}

}  // namespace

TEST_CASE("a FIFO at .git/info/exclude and in the workspace neither blocks the judge nor leaks") {
  SWEBOX_REQUIRE_ATTACKS();
  HostSecret secret;
  AttackRun run = run_attack_episodes(
      {{kAttacked,
        {bash_action("cd /testbed && rm -f .git/info/exclude && mkfifo .git/info/exclude && mkfifo pipe && "
                     "ln -s " + secret.path + " leak && echo planted"),
         "Done.\n\n## Nothing to submit."}},
       benign_episode()},
      {"--wall-limit", "60"}, 240);
  check_run(run, secret);
  CHECK(run.wall_s < 120);
  const nlohmann::json& t = (*run.episode(kAttacked))["terminal"];
  CHECK(field(t, "audit", "judged") == "workspace");
  CHECK(field(t, "audit", "git_touched") == true);
  REQUIRE(field(t, "audit", "skipped_special").is_array());
  CHECK(field(t, "audit", "skipped_special")[0] == "pipe (fifo)");
  // The link is recorded as its text, never followed.
  CHECK(t["patch"].get<std::string>().find("+" + secret.path) != std::string::npos);
}

TEST_CASE("a .gitignore glob that makes a backtracking matcher explode costs the judge nothing") {
  SWEBOX_REQUIRE_ATTACKS();
  HostSecret secret;
  // 300 rules of "*a" x 60 then "b", and files whose names are long runs of "a": std::regex took
  // minutes on one of them.
  std::string make = "cd /testbed && python3 - <<'EOF'\n"
                     "rule = '*a' * 60 + 'b'\n"
                     "open('.gitignore', 'w').write(''.join(rule + str(i) + '\\n' for i in range(300)))\n"
                     "import os\n"
                     "os.makedirs('a' * 200, exist_ok=True)\n"
                     "for i in range(20): open(os.path.join('a' * 200, 'a' * 200 + str(i)), 'w').write('x')\n"
                     "EOF\n"
                     "echo made";
  // The judged patch carries the .gitignore into the evaluation, where eval.sh's `git status` runs
  // git's own (backtracking) matcher in the evaluation sandbox: bounded there by --eval-timeout.
  AttackRun run = run_attack_episodes({{kAttacked, {bash_action(make), "Done.\n\n## Nothing."}}, benign_episode()},
                                      {"--wall-limit", "60", "--eval-timeout", "20"}, 240);
  check_run(run, secret);
  CHECK(run.wall_s < 120);
  const nlohmann::json& e = *run.episode(kAttacked);
  INFO(e["sandbox"].dump());
  CHECK(e["sandbox"]["diff_ms"].get<double>() < 5000);
  CHECK(e["terminal"]["patch"].get<std::string>().find(std::string(200, 'a') + "19") != std::string::npos);
}

TEST_CASE("a file swapped for a link to a host secret while the judge reads leaks nothing") {
  SWEBOX_REQUIRE_ATTACKS();
  HostSecret secret;
  // A job that keeps swapping a tracked file and a new one for absolute links to the secret (and
  // back), left running when the agent submits; the submission itself is such a link.
  std::string swap = "cd /testbed && cp calc/ops.py /tmp/ops.py && "
                     "nohup setsid bash -c 'while :; do ln -sfn " + secret.path + " calc/ops.py; "
                     "ln -sfn " + secret.path + " stolen.txt; cp /tmp/ops.py calc/ops.py.new; "
                     "mv -f calc/ops.py.new calc/ops.py; done' >/dev/null 2>&1 & "
                     "ln -sfn " + secret.path + " /tmp/answer.diff; sleep 1; echo swapping";
  AttackRun run = run_attack_episodes(
      {{kAttacked, {bash_action(swap), submit_action("/tmp/answer.diff"), "Done.\n\n## Submitted."}}, benign_episode()},
      {"--wall-limit", "60"}, 240);
  check_run(run, secret);
  const nlohmann::json& t = (*run.episode(kAttacked))["terminal"];
  INFO(t.dump(2).substr(0, 3000));
  CHECK(field(t, "audit", "diff_refused").is_null());
}

TEST_CASE("hundreds of MiB of junk in the workspace get a clear refusal in bounded output") {
  SWEBOX_REQUIRE_ATTACKS();
  HostSecret secret;
  std::string junk = "cd /testbed && mkdir -p junk && head -c 1048576 /dev/urandom > /tmp/mb && "
                     "for i in $(seq 300); do { echo $i; cat /tmp/mb; } > junk/$i.bin; done && du -sh junk";  // 300 different blobs
  AttackRun run = run_attack_episodes({{kAttacked, {bash_action(junk), "Done.\n\n## Junk."}}, benign_episode()},
                                      {"--wall-limit", "120"}, 300);
  check_run(run, secret);
  const nlohmann::json& t = (*run.episode(kAttacked))["terminal"];
  CHECK(field(t, "audit", "judged") == "workspace");
  REQUIRE(field(t, "audit", "diff_refused").is_string());
  CHECK(field(t, "audit", "diff_refused").get<std::string>().find("bytes") != std::string::npos);
  CHECK(t["patch"] == "");
  CHECK(t["eval"]["patch_exists"] == false);
  // 300 MiB of agent data, a few MiB of output at most, and no process of the run (the judge's
  // included: swebox run was this process's child) grew past 200 MiB (the judge holds at most its 32 MiB cap of the agent's files).
  CHECK(run.all_outputs().size() < (16u << 20));
  struct rusage ru {};
  getrusage(RUSAGE_CHILDREN, &ru);
  MESSAGE("largest child's peak RSS: " << ru.ru_maxrss / 1024 << " MiB");
  CHECK(ru.ru_maxrss < 200 * 1024);
}

TEST_CASE("a job still writing after submit is stopped before the judge reads") {
  SWEBOX_REQUIRE_ATTACKS();
  HostSecret secret;
  // ops.py first, then late.txt: at any moment, ops.py holds the number late.txt holds.
  std::string writer = "cd /testbed && nohup setsid bash -c 'i=0; while :; do i=$((i+1)); echo $i >> calc/ops.py; "
                       "echo $i > late.txt; done' >/dev/null 2>&1 & "
                       "sleep 0.5; echo 'diff --git a/x b/x' > /tmp/answer.diff; echo started";
  AttackRun run = run_attack_episodes(
      {{kAttacked, {bash_action(writer), submit_action("/tmp/answer.diff"), "Done.\n\n## Submitted."}},
       benign_episode()},
      {"--wall-limit", "60"}, 240);
  check_run(run, secret);
  const nlohmann::json& t = (*run.episode(kAttacked))["terminal"];
  // Sealed: the submission is judged; the workspace differs from it, and says so.
  CHECK(field(t, "audit", "judged") == "submission");
  CHECK(field(t, "audit", "submission_differs") == true);
  std::string patch = t["patch"];
  CHECK(patch.find("late.txt") != std::string::npos);
  // The diff is of one moment after the writer stopped: ops.py holds late.txt's number.
  auto late = patch.find("+++ b/late.txt");
  auto ops = patch.find("+++ b/calc/ops.py");
  REQUIRE(late != std::string::npos);
  REQUIRE(ops != std::string::npos);
  std::string n = patch.substr(patch.find("\n+", patch.find("@@", late)) + 2);
  n = n.substr(0, n.find('\n'));
  std::string ops_part = ops < late ? patch.substr(ops, late - ops) : patch.substr(ops);
  CHECK(ops_part.find("\n+" + n + "\n") != std::string::npos);
}

TEST_CASE("swebench grading judges the whole workspace diff, sealed the submission") {
  SWEBOX_REQUIRE_ATTACKS();
  // The fix made in the workspace, but an unrelated file's diff submitted.
  AttackEpisode e = benign_episode();
  e.actions = {e.actions[0],
               bash_action("cd /testbed && echo '# unrelated' > notes.txt && git add -N notes.txt && "
                           "git diff -- notes.txt > /tmp/notes.diff"),
               submit_action("/tmp/notes.diff"), "Done.\n\n## Notes."};
  for (std::string mode : {"sealed", "swebench"}) {
    CAPTURE(mode);
    AttackRun run = run_attack_episodes({e}, {"--grading", mode}, 240);
    INFO(run.console.substr(0, 2000));
    REQUIRE(run.episodes.size() == 1);
    const nlohmann::json& t = (*run.episode(kBenign))["terminal"];
    INFO(t.dump(2).substr(0, 3000));
    CHECK(field(t, "audit", "grading") == mode);
    CHECK(field(t, "audit", "judged") == (mode == "sealed" ? "submission" : "workspace"));
    CHECK(field(t, "audit", "submission_differs") == true);
    CHECK(t["eval"]["resolved"] == (mode == "swebench"));
    std::ifstream summary(run.out_dir + "/summary.json");
    nlohmann::json s = nlohmann::json::parse(summary);
    CHECK(s["grading"] == mode);
    CHECK(s["config"]["grading"] == mode);
  }
}
