// Shared by the fuzz targets: the input as text, cut into parts at NUL bytes (seed files are
// "part\0part\0..."; text never holds NUL, so each part reads as an ordinary file).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <string_view>
#include <vector>

namespace swebox::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Exactly `n` parts: the last one takes the rest (NULs included); missing parts are empty.
inline std::vector<std::string_view> parts(std::string_view text, size_t n) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < n) {
    size_t nul = text.find('\0');
    if (nul == std::string_view::npos) break;
    out.push_back(text.substr(0, nul));
    text.remove_prefix(nul + 1);
  }
  out.push_back(text);
  out.resize(n);
  return out;
}

// A property the code must keep: a violation is a finding, reported like a sanitizer's.
#define FUZZ_CHECK(cond)                                                            \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

}  // namespace swebox::fuzz
