// Little-endian scalars to and from byte buffers (weight files are little endian, as are the
// hosts this runs on), through memcpy: no alignment or aliasing assumptions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace swebox::model {

template <typename T>
T load_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

template <typename T>
void append_le(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof v);
  out.append(b, sizeof b);
}

}  // namespace swebox::model
