// `swebox trace` on the corpus of tests/trace/corpus/ (one program per file; its "# entry:",
// "# input:" and "# expect:" header lines say how to call it and what status it must end with):
// the real binary, the real sandbox and Debian's python3, checked against plain Python.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/trace_job.h"
#include "trajectories/python_trace.h"
#include "trajectories/writer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace swebox;

const std::string kCorpus = SWEBOX_SOURCE_DIR "/tests/trace/corpus";

std::string slurp(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CorpusProgram {
  json line;             // the programs-file line
  std::string expect;    // the status every input must end with
};

std::vector<CorpusProgram> corpus(bool hostile) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(kCorpus))
    if (e.path().extension() == ".py") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<CorpusProgram> out;
  for (const fs::path& p : files) {
    if (!hostile && p.stem().string().starts_with("hostile_")) continue;
    std::string code = slurp(p.string());
    CorpusProgram prog{{{"id", p.stem().string()}, {"code", code}, {"inputs", json::array()}}, "ok"};
    std::istringstream lines(code);
    std::string l;
    while (std::getline(lines, l) && l.starts_with("# ")) {
      if (l.starts_with("# entry: ")) prog.line["entry"] = l.substr(9);
      else if (l.starts_with("# input:")) prog.line["inputs"].push_back(l.size() > 9 ? l.substr(9) : "");
      else if (l.starts_with("# expect: ")) prog.expect = l.substr(10);
    }
    out.push_back(std::move(prog));
  }
  return out;
}

// This process's scratch folder, removed when it exits.
std::string temp_dir() {
  struct Scratch {
    std::string path = (fs::temp_directory_path() / ("swebox-trace-test-" + std::to_string(getpid()))).string();
    Scratch() { fs::create_directories(path); }
    ~Scratch() {
      std::error_code ec;
      fs::remove_all(path, ec);
    }
  };
  static Scratch scratch;
  return scratch.path;
}

std::string write_programs(const std::vector<CorpusProgram>& progs, const std::string& path) {
  std::ofstream o(path);
  for (const auto& p : progs) o << p.line.dump() << "\n";
  return path;
}

int run_swebox(const std::string& args, const std::string& log) {
  int rc = std::system((std::string(SWEBOX_BINARY) + " " + args + " >" + log + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

// " at 0x1f" -> " at 0x?": the tracer numbers addresses per trace, plain Python shows real ones.
std::string without_addresses(const std::string& s) { return std::regex_replace(s, std::regex(" at 0x[0-9a-fA-F]+"), " at 0x?"); }

std::map<std::string, json> by_pair(const std::vector<json>& records) {
  std::map<std::string, json> m;
  for (const json& r : records) m[r["id"].get<std::string>() + "#" + std::to_string(r["input_index"].get<int>())] = r;
  return m;
}

// The corpus through `swebox trace`, once per test run (both test cases read it).
struct CorpusRun {
  std::string dir, programs, out, log;
  int rc = -1;
  std::vector<CorpusProgram> progs;
  std::vector<json> records;
};
const CorpusRun& corpus_run() {
  static CorpusRun run = [] {
    CorpusRun r;
    r.dir = temp_dir();
    r.progs = corpus(true);
    r.programs = write_programs(r.progs, r.dir + "/programs.jsonl");
    r.out = r.dir + "/traces.jsonl";
    r.log = r.dir + "/log";
    r.rc = run_swebox("trace --programs " + r.programs + " --out " + r.out + " -j 2 --batch 8 --timeout 3 --memory 268435456", r.log);
    r.records = traj::read_jsonl(r.out);
    return r;
  }();
  return run;
}

}  // namespace

TEST_CASE("every corpus program ends as expected, its text parses back to its events and every '..' resolves") {
  const CorpusRun& run = corpus_run();
  INFO(slurp(run.log));
  REQUIRE(run.rc == 0);
  size_t pairs = 0;
  for (const auto& p : run.progs) pairs += p.line["inputs"].size();
  REQUIRE(run.records.size() == pairs);
  std::map<std::string, std::string> expect;
  for (const auto& p : run.progs) expect[p.line["id"].get<std::string>()] = p.expect;
  size_t round_trips = 0;
  for (const json& r : run.records) {
    std::string id = r["id"].get<std::string>();
    INFO(id << " input " << r["input"].get<std::string>() << ": " << r.value("error", "") << r.value("exception", ""));
    CHECK(r["status"] == expect[id]);
    if (!r.contains("text")) {
      CHECK((r["status"] == "error" || r["status"] == "timeout"));
      continue;
    }
    // A trace is whole (ends with <|end_of_text|>) exactly when the call returned or raised.
    bool whole = r["status"] == "ok" || r["status"] == "exception";
    CHECK(r["complete"] == whole);
    const std::string& text = r["text"].get_ref<const std::string&>();
    CHECK(text.ends_with("<|end_of_text|>") == whole);
    CHECK(text.find("  # << START_OF_TRACE\n") != std::string::npos);
    if (r.value("text_ambiguous", false)) {
      CHECK(id == "hostile_token_text");
      continue;
    }
    std::string why;
    auto back = traj::parse_trace(text, &why);
    REQUIRE_MESSAGE(back.has_value(), why);
    const json& events = r["events"];
    REQUIRE(back->frames.size() == events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      const auto& f = back->frames[i];
      CHECK(traj::to_string(f.event) == events[i]["event"].get<std::string>());
      CHECK(f.source == events[i]["source"].get<std::string>());
      CHECK(f.line == events[i]["line"].get<int>());   // corpus lines are distinct where it matters
      if (events[i].contains("locals")) {
        traj::TraceLocals locals;
        for (const json& kv : events[i]["locals"]) locals.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
        CHECK(f.locals == locals);
      } else {
        CHECK(f.value == events[i]["value"].get<std::string>());
      }
    }
    CHECK(traj::render_trace(*back) == text);
    REQUIRE(!back->frames.empty());
    CHECK(back->frames.front().event == traj::TraceEvent::call);
    CHECK(traj::resolve_trace_locals(*back, &why).has_value());
    ++round_trips;
  }
  CHECK(round_trips >= 20);
}

TEST_CASE("the value recorded is what plain Python returns, and a second run gives byte-identical traces") {
  const CorpusRun& run = corpus_run();
  REQUIRE(run.rc == 0);
  std::vector<CorpusProgram> safe_programs = corpus(false);
  size_t safe_pairs = 0;
  for (const auto& p : safe_programs) safe_pairs += p.line["inputs"].size();
  std::string safe = write_programs(safe_programs, run.dir + "/safe.jsonl");
  std::string reference = run.dir + "/reference.jsonl";
  REQUIRE(std::system(("PYTHONHASHSEED=0 python3 " SWEBOX_SOURCE_DIR "/tests/trace/real_python.py " + safe + " >" + reference).c_str()) == 0);
  auto traced = by_pair(run.records);
  size_t compared = 0;
  for (const json& want : traj::read_jsonl(reference)) {
    std::string key = want["id"].get<std::string>() + "#" + std::to_string(want["input_index"].get<int>());
    INFO(key);
    REQUIRE(traced.count(key));
    const json& got = traced[key];
    CHECK(got["status"] == want["status"]);
    std::string value = got.value(want["status"] == "ok" ? "return_repr" : "exception", "");
    CHECK(without_addresses(value) == without_addresses(want["repr"].get<std::string>()));
    ++compared;
  }
  CHECK(compared == safe_pairs);

  std::string again = run.dir + "/again.jsonl";
  REQUIRE(run_swebox("trace --programs " + run.programs + " --out " + again + " -j 2 --batch 5 --timeout 3 --memory 268435456", run.dir + "/log2") == 0);
  auto second = by_pair(traj::read_jsonl(again));
  REQUIRE(second.size() == traced.size());
  for (const auto& [key, r] : traced) {
    INFO(key);
    if (r["status"] == "timeout") continue;   // where a deadline cut it is timing, not the program
    CHECK(second[key]["status"] == r["status"]);
    CHECK(second[key].value("text", "") == r.value("text", ""));
  }
}

TEST_CASE("'..' resolves to each frame's true locals (the tracer's full_locals check, run on the host)") {
  // The safe corpus only: this runs the tracer unsandboxed, with each frame's locals also written
  // whole, and resolves the '..' of the text against them.
  std::string dir = temp_dir();
  std::string input = json{{"full_locals", true}}.dump() + "\n";
  for (const auto& p : corpus(false))
    for (const json& in : p.line["inputs"])
      input += json{{"code", p.line["code"]}, {"entry", p.line["entry"]}, {"input", in}}.dump() + "\n";
  std::ofstream(dir + "/tracer.py") << traj::python_tracer_source();
  std::ofstream(dir + "/jobs.jsonl") << input;
  REQUIRE(std::system(("PYTHONHASHSEED=0 python3 " + dir + "/tracer.py serve <" + dir + "/jobs.jsonl >" + dir + "/results.jsonl").c_str()) == 0);
  size_t frames_checked = 0, dots = 0;
  for (const json& result : traj::read_jsonl(dir + "/results.jsonl")) {
    REQUIRE(result.contains("frames"));
    traj::Trace trace = runner::trace_from_tracer(result);
    std::string why;
    auto resolved = traj::resolve_trace_locals(trace, &why);
    REQUIRE_MESSAGE(resolved.has_value(), why);
    for (size_t i = 0; i < trace.frames.size(); ++i) {
      const json& f = result["frames"][i];
      if (!f[4].is_string()) continue;
      nlohmann::ordered_json full = nlohmann::ordered_json::parse(f[4].get<std::string>());
      traj::TraceLocals want;
      for (auto& [k, v] : full.items()) want.emplace_back(k, v.get<std::string>());
      CHECK((*resolved)[i] == want);
      for (const auto& kv : trace.frames[i].locals) dots += kv.second == "..";
      ++frames_checked;
    }
  }
  CHECK(frames_checked > 100);
  CHECK(dots > 50);
}

TEST_CASE("bad input is named with its line, and an existing output is kept unless --resume or --force") {
  std::string dir = temp_dir();
  std::ofstream(dir + "/bad.jsonl") << R"({"id": "a", "code": "def f(): return 1", "entry": "f", "inputs": [""]})" "\n"
                                    << R"({"id": "b", "code": "def f(): return 1", "entry": "f", "inputs": [3]})" "\n";
  CHECK(run_swebox("trace --programs " + dir + "/bad.jsonl --out " + dir + "/o.jsonl", dir + "/log") == 1);
  CHECK(slurp(dir + "/log").find("bad.jsonl:2: \"inputs\"[0] must be a string") != std::string::npos);
  CHECK(!fs::exists(dir + "/o.jsonl"));

  std::ofstream(dir + "/good.jsonl") << R"({"id": "a", "code": "def f(x):\n    return x + 1\n", "entry": "f", "inputs": ["1", "2"]})" "\n"
                                     << R"({"id": "b", "code": "def g(s):\n    return s[::-1]\n", "entry": "g", "inputs": ["'ab'"]})" "\n";
  std::string out = dir + "/o.jsonl";
  std::ofstream(out) << R"({"id": "a", "input_index": 1, "status": "ok", "note": "kept"})" "\n";
  CHECK(run_swebox("trace --programs " + dir + "/good.jsonl --out " + out, dir + "/log") == 1);
  CHECK(slurp(dir + "/log").find("--resume") != std::string::npos);
  REQUIRE(run_swebox("trace --programs " + dir + "/good.jsonl --out " + out + " --resume", dir + "/log") == 0);
  auto records = traj::read_jsonl(out);
  REQUIRE(records.size() == 3);   // the kept line and the two pairs it lacked
  CHECK(records[0]["note"] == "kept");
  CHECK(by_pair(records).at("b#0")["return_repr"] == "'ba'");
  REQUIRE(run_swebox("trace --programs " + dir + "/good.jsonl --out " + out + " --force", dir + "/log") == 0);
  CHECK(traj::read_jsonl(out).size() == 3);
  CHECK(traj::read_jsonl(out)[0].value("note", "") == "");
}

TEST_CASE("the tracer's bounded repr of long texts and containers is a prefix of repr itself") {
  std::string cmd = "python3 " SWEBOX_SOURCE_DIR "/tests/trace/check_bounded_repr.py " SWEBOX_SOURCE_DIR "/trajectories/tracer";
  CHECK(std::system(cmd.c_str()) == 0);
}

TEST_CASE("--dedup writes one record per distinct trace text, also across --resume") {
  std::string dir = temp_dir() + "/dedup";
  fs::create_directories(dir);
  std::string code = R"("def f(x):\n    y = x * 2\n    return y\n")";
  std::ofstream(dir + "/p.jsonl") << R"({"id": "a", "code": )" << code << R"(, "entry": "f", "inputs": ["1", "2", "1"]})" "\n"
                                  << R"({"id": "b", "code": )" << code << R"(, "entry": "f", "inputs": ["2"]})" "\n";
  std::string out = dir + "/o.jsonl";
  REQUIRE(run_swebox("trace --programs " + dir + "/p.jsonl --out " + out + " --dedup", dir + "/log") == 0);
  auto records = traj::read_jsonl(out);
  CHECK(records.size() == 2);   // f(1) and f(2): the second f(1) and b's f(2) trace the same
  CHECK(slurp(dir + "/log").find("2 duplicate traces not written") != std::string::npos);
  CHECK(records[0]["text_hash"] != records[1]["text_hash"]);
  std::ofstream(dir + "/p.jsonl", std::ios::app) << R"({"id": "c", "code": )" << code << R"(, "entry": "f", "inputs": ["1", "3"]})" "\n";
  REQUIRE(run_swebox("trace --programs " + dir + "/p.jsonl --out " + out + " --dedup --resume", dir + "/log") == 0);
  records = traj::read_jsonl(out);
  REQUIRE(records.size() == 3);   // only f(3) is new
  CHECK(records[2]["input"] == "3");
  // Without --dedup every pair has its record.
  REQUIRE(run_swebox("trace --programs " + dir + "/p.jsonl --out " + out + " --force", dir + "/log") == 0);
  CHECK(traj::read_jsonl(out).size() == 6);
}

TEST_CASE("CWM's own trace reader (cwmdbg.py of a CWM checkout) reads every corpus trace as swebox's events") {
  const char* cwm = std::getenv("SWEBOX_CWM_DIR");
  if (!cwm || !*cwm) {
    MESSAGE("skipped: SWEBOX_CWM_DIR is not set (point it at a checkout of facebookresearch/cwm outside this "
            "repository; see scripts/cwm_trace_check.py)");
    return;
  }
  const CorpusRun& run = corpus_run();
  REQUIRE(run.rc == 0);
  std::string log = run.dir + "/cwm-check.log";
  int rc = std::system(("/usr/bin/python3 " SWEBOX_SOURCE_DIR "/scripts/cwm_trace_check.py --cwm '" + std::string(cwm) +
                        "' --traces " + run.out + " >" + log + " 2>&1").c_str());
  rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
  if (rc == 77) {
    MESSAGE("skipped: " << slurp(log));
    return;
  }
  INFO(slurp(log));
  CHECK(rc == 0);
  CHECK(slurp(log).find(" 0 differ") != std::string::npos);
}

TEST_CASE("pairs of one batch share only the sandbox's filesystem, and --batch 1 gives each a sandbox of its own") {
  std::string dir = temp_dir() + "/isolation";
  fs::create_directories(dir);
  // a: leaves a file and changes a module's state; b: looks for both.
  std::ofstream(dir + "/p.jsonl")
      << R"({"id": "a", "code": "import json\ndef f():\n    open('/tmp/marker', 'w').write('a')\n    json.dumps = None\n    return 'written'\n", "entry": "f", "inputs": [""]})" "\n"
      << R"({"id": "b", "code": "import os, json\ndef f():\n    return [os.path.exists('/tmp/marker'), json.dumps is None]\n", "entry": "f", "inputs": [""]})" "\n";
  auto seen = [&](const std::string& batch) {
    std::string out = dir + "/o" + batch + ".jsonl";
    REQUIRE(run_swebox("trace --programs " + dir + "/p.jsonl --out " + out + " --batch " + batch, dir + "/log") == 0);
    return by_pair(traj::read_jsonl(out)).at("b#0")["return_repr"].get<std::string>();
  };
  CHECK(seen("2") == "[True, False]");    // one sandbox: the file is there, the Python state is not
  CHECK(seen("1") == "[False, False]");   // a sandbox each: neither
}
