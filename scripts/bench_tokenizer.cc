// Tokenizer throughput (scripts/bench-tokenizer.sh): encodes TEXT_FILE REPEATS times with the tokenizer
// in TOKENIZER_FILE (with "special": spelled special tokens are those tokens) and prints "tokens N load_cpu_s L encode_cpu_s E" (CPU seconds of this process).
#include <ctime>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "model/tokenizer.h"

namespace {
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && !(argc == 5 && std::string(argv[4]) == "special")) {
    std::fprintf(stderr, "usage: bench_tokenizer TOKENIZER_FILE TEXT_FILE REPEATS [special]\n");
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    double t0 = cpu_seconds();
    auto tokenizer = swebox::model::load_tokenizer(argv[1]);
    double t1 = cpu_seconds();
    size_t tokens = 0;
    for (int i = 0; i < std::stoi(argv[3]); ++i) tokens += tokenizer->encode(text.str(), {.parse_special = argc == 5}).size();
    double t2 = cpu_seconds();
    std::printf("tokens %zu load_cpu_s %.3f encode_cpu_s %.3f\n", tokens, t1 - t0, t2 - t1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 1;
  }
  return 0;
}
