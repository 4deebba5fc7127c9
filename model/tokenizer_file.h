// Reading tokenizer files: the whole file, and a bounds-checked little-endian reader over its bytes
// whose every failure is a TokenizerError naming the file, the field and the offset.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "model/tokenizer.h"

namespace swebox::model {

// The file's bytes; a TokenizerError naming `path` when it cannot be read (or is over 4 GiB).
std::string read_tokenizer_file(const std::string& path);

class ByteReader {
 public:
  ByteReader(std::string_view bytes, const std::string& name) : bytes_(bytes), name_(name) {}

  bool done() const { return at_ == bytes_.size(); }
  size_t offset() const { return at_; }

  std::string_view bytes(size_t count, const std::string& what) {
    if (count > bytes_.size() - at_)
      throw TokenizerError(name_ + ": truncated: " + what + " needs " + std::to_string(count) +
                           " bytes at offset " + std::to_string(at_) + ", the file has " +
                           std::to_string(bytes_.size() - at_) + " left");
    std::string_view out = bytes_.substr(at_, count);
    at_ += count;
    return out;
  }
  template <class T>
  T scalar(const std::string& what) {
    std::string_view raw = bytes(sizeof(T), what);
    T value;
    std::memcpy(&value, raw.data(), sizeof(T));
    return value;
  }
  int32_t i32(const std::string& what) { return scalar<int32_t>(what); }
  float f32(const std::string& what) { return scalar<float>(what); }

 private:
  std::string_view bytes_;
  const std::string& name_;
  size_t at_ = 0;
};

}  // namespace swebox::model
