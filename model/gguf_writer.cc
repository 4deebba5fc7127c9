#include "model/gguf_writer.h"

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace swebox::model {

namespace {
template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof v);
  out.append(b, sizeof b);
}
void put_string(std::string& out, std::string_view s) {
  put<uint64_t>(out, s.size());
  out.append(s);
}
}  // namespace

#define SWEBOX_GGUF_SCALAR(method, ctype, tag)                \
  void GgufWriter::method(std::string_view key, ctype value) { \
    put_string(metadata_, key);                               \
    put<uint32_t>(metadata_, static_cast<uint32_t>(tag));     \
    put<ctype>(metadata_, value);                             \
    ++metadata_count_;                                        \
  }
SWEBOX_GGUF_SCALAR(add_uint32, uint32_t, GgufType::u32)
SWEBOX_GGUF_SCALAR(add_int32, int32_t, GgufType::i32)
SWEBOX_GGUF_SCALAR(add_uint64, uint64_t, GgufType::u64)
SWEBOX_GGUF_SCALAR(add_float32, float, GgufType::f32)
#undef SWEBOX_GGUF_SCALAR

void GgufWriter::add_bool(std::string_view key, bool value) {
  put_string(metadata_, key);
  put<uint32_t>(metadata_, static_cast<uint32_t>(GgufType::boolean));
  put<uint8_t>(metadata_, value ? 1 : 0);
  ++metadata_count_;
}

void GgufWriter::add_string(std::string_view key, std::string_view value) {
  put_string(metadata_, key);
  put<uint32_t>(metadata_, static_cast<uint32_t>(GgufType::string));
  put_string(metadata_, value);
  ++metadata_count_;
}

void GgufWriter::add_strings(std::string_view key, const std::vector<std::string>& values) {
  put_string(metadata_, key);
  put<uint32_t>(metadata_, static_cast<uint32_t>(GgufType::array));
  put<uint32_t>(metadata_, static_cast<uint32_t>(GgufType::string));
  put<uint64_t>(metadata_, values.size());
  for (const std::string& v : values) put_string(metadata_, v);
  ++metadata_count_;
}

template <typename T>
void GgufWriter::add_array(std::string_view key, GgufType element_type, const std::vector<T>& values) {
  put_string(metadata_, key);
  put<uint32_t>(metadata_, static_cast<uint32_t>(GgufType::array));
  put<uint32_t>(metadata_, static_cast<uint32_t>(element_type));
  put<uint64_t>(metadata_, values.size());
  for (T v : values) put<T>(metadata_, v);
  ++metadata_count_;
}

void GgufWriter::add_float32s(std::string_view key, const std::vector<float>& values) {
  add_array(key, GgufType::f32, values);
}

void GgufWriter::add_int32s(std::string_view key, const std::vector<int32_t>& values) {
  add_array(key, GgufType::i32, values);
}

void GgufWriter::add_raw(std::string_view key, GgufType type, std::string_view raw) {
  put_string(metadata_, key);
  put<uint32_t>(metadata_, static_cast<uint32_t>(type));
  metadata_ += raw;
  ++metadata_count_;
}

void GgufWriter::add_tensor(std::string_view name, TensorType type, std::vector<uint64_t> dims,
                            std::string data) {
  tensors_.push_back({std::string(name), type, std::move(dims), std::move(data)});
}

std::string GgufWriter::bytes(uint32_t alignment) const {
  std::string out = "GGUF";
  put<uint32_t>(out, 3);
  put<uint64_t>(out, tensors_.size());
  const bool custom_alignment = alignment != 32;
  put<uint64_t>(out, metadata_count_ + (custom_alignment ? 1 : 0));
  out += metadata_;
  if (custom_alignment) {
    put_string(out, "general.alignment");
    put<uint32_t>(out, static_cast<uint32_t>(GgufType::u32));
    put<uint32_t>(out, alignment);
  }
  auto padded = [&](uint64_t n) { return (n + alignment - 1) / alignment * alignment; };
  uint64_t offset = 0;
  for (const Tensor& t : tensors_) {
    put_string(out, t.name);
    put<uint32_t>(out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) put<uint64_t>(out, d);
    put<uint32_t>(out, static_cast<uint32_t>(t.type));
    put<uint64_t>(out, offset);
    offset = padded(offset + t.data.size());
  }
  out.resize(padded(out.size()), '\0');
  for (const Tensor& t : tensors_) {
    out += t.data;
    out.resize(padded(out.size()), '\0');
  }
  return out;
}

void GgufWriter::write(const std::string& path, uint32_t alignment) const {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  const std::string b = bytes(alignment);
  f.write(b.data(), static_cast<std::streamsize>(b.size()));
  if (!f) throw std::runtime_error(path + ": cannot write");
}

}  // namespace swebox::model
