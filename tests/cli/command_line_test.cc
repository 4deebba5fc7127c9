// The operator's command line, through the real built binary (build/swebox): --version, every
// command's --help, usage errors (exit 2, naming the flag and the value), the required --policy,
// export's refusal to overwrite, and errors reported rather than aborted on.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "../eval/command_run.h"

namespace fs = std::filesystem;
using swebox::eval_test::Ran;
using swebox::eval_test::read;
using swebox::eval_test::run;

namespace {

const std::string kSwebox = SWEBOX_BINARY;
const char* const kCommands[] = {"env",   "eval",    "export",   "generate",  "run",
                                 "sandbox", "score", "selfplay", "templates", "trace", "validate"};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// A fresh scratch directory, removed at the end of the test case.
struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("swebox-cli-test-" + std::to_string(getpid()));
  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("swebox --version prints a version") {
  Ran r = run(kSwebox + " --version");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(std::regex_search(r.output, std::regex("^[0-9]+\\.[0-9]+\\.[0-9]+")));
}

TEST_CASE("swebox --help and every command's --help exit 0 and show examples") {
  Ran top = run(kSwebox + " --help");
  INFO(top.output);
  CHECK(top.status == 0);
  CHECK(contains(top.output, "Examples:"));
  CHECK(run(kSwebox + " help").output == top.output);
  for (const char* command : kCommands) {
    CAPTURE(command);
    CHECK(contains(top.output, command));  // the top-level help lists it
    Ran r = run(kSwebox + " " + command + " --help");
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(contains(r.output, "Examples:"));
    CHECK(contains(r.output, std::string("swebox ") + command));
  }
}

TEST_CASE("an unknown command or flag is a usage error (exit 2) that names it") {
  Ran command = run(kSwebox + " frobnicate");
  CHECK(command.status == 2);
  CHECK(contains(command.output, "unknown command 'frobnicate'"));
  CHECK(run(kSwebox).status == 2);  // no command at all
  for (std::string args : {"run --suite s --policy oracle --repos r --out o --no-such-flag", "run --no-such-flag",
                           "eval --no-such-flag", "export --no-such-flag", "env check --no-such-flag",
                           "score log --no-such-flag", "sandbox exec --no-such-flag -- true", "validate --no-such-flag",
                           "templates import-cwm --no-such-flag", "generate --no-such-flag"}) {
    CAPTURE(args);
    Ran r = run(kSwebox + " " + args);
    INFO(r.output);
    CHECK(r.status == 2);
    CHECK(contains(r.output, "--no-such-flag"));
  }
}

TEST_CASE("numeric flags are checked, and the message names the flag and the value") {
  struct Case {
    std::string args, flag, value;
  };
  for (const Case& c :
       {Case{"run --suite s --policy oracle --repos r --out o -j 0", "-j", "'0'"},
        Case{"eval --suite s --predictions gold --repos r --out o -j 0", "-j", "'0'"},
        Case{"run --suite s --policy oracle --repos r --out o --samples 0", "--samples", "'0'"},
        Case{"run --suite s --policy oracle --repos r --out o --similarity-threshold 1.5", "--similarity-threshold",
             "'1.5'"},
        Case{"run --suite s --policy oracle --repos r --out o --eval-timeout -1", "--eval-timeout", "'-1'"},
        Case{"eval --suite s --predictions gold --repos r --out o --eval-timeout 0", "--eval-timeout", "'0'"},
        Case{"validate --suite s --repos r --out o -j 0", "--jobs", "'0'"},
        Case{"run --suite s --policy oracle --repos r --out o --max-turns 0", "--max-turns", "'0'"},
        Case{"run --suite s --policy oracle --repos r --out o --request-timeout 0", "--request-timeout", "'0'"},
        Case{"run --suite s --policy oracle --repos r --out o --top-p 2", "--top-p", "'2'"},
        Case{"sandbox exec --timeout 0 -- true", "--timeout", "'0'"},
        Case{"sandbox exec --pids many -- true", "--pids", "'many'"}}) {
    CAPTURE(c.args);
    Ran r = run(kSwebox + " " + c.args);
    INFO(r.output);
    CHECK(r.status == 2);
    CHECK(contains(r.output, c.flag));
    CHECK(contains(r.output, c.value));
  }
}

TEST_CASE("a flag given twice counts once (the last) and a repeatable flag keeps every value") {
  // As before CLI11: scripts append overrides (scripts/demo.sh ... --policy openai:...).
  Ran r = run(kSwebox + " sandbox exec --timeout 60 --timeout 1 --env A=1 --env B=2 -- sh -c 'echo $A$B; sleep 10'");
  INFO(r.output);
  CHECK(r.status == 137);  // killed at the second --timeout
  CHECK(contains(r.output, "12\n"));
}

TEST_CASE("swebox run without --policy is a usage error, not an oracle run") {
  Scratch s;
  Ran r = run(kSwebox + " run --suite s.jsonl --repos " + s.dir.string() + " --out " + (s.dir / "out").string());
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "--policy"));
  CHECK_FALSE(fs::exists(s.dir / "out"));
}

TEST_CASE("swebox export does not overwrite an existing output without --force") {
  Scratch s;
  const fs::path trajectories = s.dir / "trajectories.jsonl", out = s.dir / "predictions.jsonl";
  std::ofstream(trajectories).close();  // an empty run
  std::ofstream(out) << "precious\n";
  Ran refused = run(kSwebox + " export --format predictions " + trajectories.string() + " " + out.string());
  INFO(refused.output);
  CHECK(refused.status == 1);
  CHECK(contains(refused.output, out.string()));
  CHECK(contains(refused.output, "--force"));
  CHECK(read(out) == "precious\n");

  Ran forced = run(kSwebox + " export --format predictions --force " + trajectories.string() + " " + out.string());
  INFO(forced.output);
  CHECK(forced.status == 0);
  CHECK(read(out).empty());  // no episodes: no predictions
}

TEST_CASE("swebox export of a missing input is a clear error") {
  Scratch s;
  const fs::path missing = s.dir / "no-such-trajectories.jsonl", out = s.dir / "out.jsonl";
  Ran r = run(kSwebox + " export --format chat " + missing.string() + " " + out.string());
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, missing.string()));
  CHECK(contains(r.output, "does not exist"));
  CHECK_FALSE(fs::exists(out));
}

TEST_CASE("a deprecated spelling still works and says which one to use") {
  Scratch s;
  // --v41 is now --v4.1; the run stops later, at the missing repositories directory.
  Ran r = run(kSwebox + " eval --suite s.jsonl --predictions gold --repos " + (s.dir / "none").string() + " --out " +
              (s.dir / "out").string() + " --v41");
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(contains(r.output, "--v41 is deprecated; use --v4.1"));
  CHECK(contains(r.output, "is not a directory"));
}

TEST_CASE("an error inside a command is reported with invalid UTF-8 replaced, exit 1, never an abort") {
  Scratch s;
  const fs::path suite = s.dir / "suite.jsonl", log = s.dir / "log.txt";
  std::ofstream(suite).close();
  std::ofstream(log) << "nothing\n";
  Ran r = run(kSwebox + " score log --suite " + suite.string() + " --log " + log.string() + " --instance \"$(printf 'bad\\377')\"");
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(contains(r.output, "swebox score: "));
  CHECK(contains(r.output, "bad\xef\xbf\xbd"));  // U+FFFD for the 0xff byte
  CHECK_FALSE(contains(r.output, "bad\xff"));
}

TEST_CASE("a command's own messages name a path with invalid UTF-8 replaced (eval, validate, export)") {
  Scratch s;
  const fs::path suite = s.dir / "suite.jsonl";
  std::ofstream(suite).close();
  const std::string bad = "\"$(printf '/tmp/no-such\\377dir')\"";
  for (const std::string& cmd : {kSwebox + " eval --suite " + suite.string() + " --predictions gold --repos " + bad +
                                     " --out " + (s.dir / "e").string(),
                                 kSwebox + " validate --suite " + suite.string() + " --repos " + bad + " --out " +
                                     (s.dir / "v").string(),
                                 kSwebox + " export " + bad + " " + (s.dir / "p.jsonl").string() + " --format predictions"}) {
    Ran r = run(cmd);
    INFO(cmd, "\n", r.output);
    CHECK(r.status != 0);
    CHECK(contains(r.output, "no-such\xef\xbf\xbd" "dir"));
    CHECK_FALSE(contains(r.output, "no-such\xff"));
  }
}

TEST_CASE("swebox generate prints llama2.c's greedy stories260K story byte for byte, from the .bin and the .gguf") {
  const std::string models = SWEBOX_SHARED_DIR "/models/stories260K";
  if (!fs::exists(models + "/stories260K.bin") || !fs::exists(models + "/stories260K.gguf") ||
      !fs::exists(models + "/tok512.bin") || !fs::exists(models + "/expected_t0_n200.txt")) {
    MESSAGE("SKIPPED: stories260K files are absent from " << models);
    return;
  }
  Scratch scratch;
  const std::string expected = read(models + "/expected_t0_n200.txt");
  for (const char* model : {"stories260K.bin", "stories260K.gguf"}) {
    CAPTURE(model);
    const fs::path out = scratch.dir / "story.txt";
    Ran r = run("(" + kSwebox + " generate --model " + models + "/" + model + " --tokenizer " + models +
                "/tok512.bin -t 0 -n 200 > " + out.string() + ")");  // stdout to the file, stderr to r.output
    INFO(r.output);
    CHECK(r.status == 0);
    CHECK(contains(r.output, "tok/s"));
    CHECK(read(out) == expected);
  }
  // Sampling with a seed repeats itself; another seed tells a different story.
  auto sampled = [&](const char* seed) {
    return run("(" + kSwebox + " generate --model " + models + "/stories260K.bin --tokenizer " + models +
               "/tok512.bin --prompt 'Lily had a dog' -n 80 -t 1 --seed " + seed + " 2>/dev/null)");
  };
  Ran a = sampled("7"), b = sampled("7"), c = sampled("8");
  CHECK(a.status == 0);
  CHECK(a.output.rfind("Lily had a dog", 0) == 0);
  CHECK(a.output == b.output);
  CHECK(a.output != c.output);
  // --json: the generated tokens with their log-probs.
  Ran j = run("(" + kSwebox + " generate --model " + models + "/stories260K.gguf --tokenizer " + models +
              "/tok512.bin -t 0 -n 200 --json 2>/dev/null)");
  REQUIRE(j.status == 0);
  auto doc = nlohmann::json::parse(j.output);
  CHECK(doc["text"].get<std::string>() + "\n" == expected);
  CHECK(doc["tokens"].size() == doc["logprobs"].size());
  CHECK(doc["prompt_tokens"] == nlohmann::json::array({1}));
  for (const auto& lp : doc["logprobs"]) CHECK(lp.get<double>() <= 0.0);
}

TEST_CASE("swebox generate refuses what it cannot use, naming it") {
  const std::string models = SWEBOX_SHARED_DIR "/models/stories260K";
  Scratch scratch;
  const fs::path junk = scratch.dir / "junk.bin";
  std::ofstream(junk) << "not a model";
  Ran r = run(kSwebox + " generate --model " + junk.string());
  CHECK(r.status == 1);
  CHECK(contains(r.output, "junk.bin: 11 bytes, too short for a llama2.c checkpoint's 28-byte header"));
  CHECK(run(kSwebox + " generate --model /nonexistent.gguf").status == 2);
  CHECK(run(kSwebox + " generate --model " + junk.string() + " -n 0").status == 2);
  if (!fs::exists(models + "/stories260K.bin")) {
    MESSAGE("SKIPPED (in part): stories260K files are absent from " << models);
    return;
  }
  r = run(kSwebox + " generate --model " + models + "/stories260K.bin");
  CHECK(r.status == 1);
  CHECK(contains(r.output, "holds no vocabulary: pass --tokenizer"));
  r = run(kSwebox + " generate --model " + models + "/stories260K.bin --tokenizer " + models + "/tok512.bin -t -1");
  CHECK(r.status == 2);
  CHECK(contains(r.output, "-t"));
}
