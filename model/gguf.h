// GGUF (llama.cpp's weight file, versions 2 and 3): the metadata and tensor directory of a file,
// memory-mapped. A weight file is untrusted input: every length, count, type, offset, size and the
// alignment is checked against the file while it is read, so a truncated or corrupt file is a
// GgufError naming the file, the byte offset and the problem, never a crash or a read past the end.
// The format: github.com/ggml-org/ggml/blob/master/docs/gguf.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace swebox::model {

struct GgufError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The type tags of metadata values, as numbered in the format.
enum class GgufType : uint32_t {
  u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
  string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view gguf_type_name(GgufType type);

// A metadata value. Strings and string arrays point into the mapped file (alive as long as the Gguf).
struct GgufValue {
  GgufType type = GgufType::u8;
  // Scalars: exactly one of these is meaningful, by `type`.
  uint64_t unsigned_value = 0;  // u8, u16, u32, u64, boolean
  int64_t signed_value = 0;     // i8, i16, i32, i64
  double float_value = 0;       // f32, f64
  std::string_view string_value;
  // Arrays: element type and count; numeric elements stay in the file (`array_bytes`, little endian,
  // packed), string elements are listed.
  GgufType element_type = GgufType::u8;
  uint64_t count = 0;
  std::span<const uint8_t> array_bytes;
  std::vector<std::string_view> strings;

  // Checked conversions; each throws GgufError naming `key` when the value is not of that kind
  // or does not fit.
  uint64_t as_uint(std::string_view key) const;    // any integer type (>= 0) or boolean
  int64_t as_int(std::string_view key) const;      // any integer type
  double as_float(std::string_view key) const;     // f32, f64 or any integer type
  std::string_view as_string(std::string_view key) const;
  const std::vector<std::string_view>& as_strings(std::string_view key) const;  // array of string
  std::vector<double> as_floats(std::string_view key) const;    // array of f32/f64/integers
  std::vector<int64_t> as_ints(std::string_view key) const;     // array of integers
};

// Tensor element types (ggml's numbering). Those with a known block layout can be located and
// sized; model/weights decides which ones it can compute with.
enum class TensorType : uint32_t {
  f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9,
  q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15,
  i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, bf16 = 30,
};
struct TensorTypeTraits {
  std::string_view name;
  uint32_t block_elements;  // elements per block (1 for plain types)
  uint32_t block_bytes;     // bytes per block
};
// nullopt for a number that is no type of this list.
std::optional<TensorTypeTraits> tensor_type_traits(uint32_t type);
std::string tensor_type_name(uint32_t type);  // "Q8_0", or "type 123" when unknown

constexpr size_t kGgufMaxDims = 4;

struct GgufTensor {
  std::string_view name;
  TensorType type;
  // ggml's order: dims[0] is the fastest-varying (a row's length), the rest are rows, layers...
  std::vector<uint64_t> dims;
  uint64_t elements = 0;
  uint64_t offset = 0;  // from the start of the data section
  uint64_t bytes = 0;
  std::span<const uint8_t> data;  // in the mapped file, `bytes` long
  uint64_t rows() const { return dims.empty() ? 0 : elements / dims[0]; }
};

// The file's bytes: a read-only private mapping, or (for the fuzzer and tests) a copy in memory.
class MappedFile {
 public:
  static std::shared_ptr<const MappedFile> open(const std::string& path);
  static std::shared_ptr<const MappedFile> from_bytes(std::string_view bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  std::string copy_;
};

class Gguf {
 public:
  // Throws GgufError ("FILE: ...") when the file cannot be read or is not a valid GGUF.
  static Gguf open(const std::string& path);
  static Gguf parse(std::shared_ptr<const MappedFile> file, std::string name);

  const std::string& name() const { return name_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  const GgufValue& require(std::string_view key) const;  // GgufError naming the key when absent
  // Typed lookups with a default when the key is absent (a present value of the wrong kind throws).
  uint64_t get_uint(std::string_view key, uint64_t fallback) const;
  double get_float(std::string_view key, double fallback) const;
  std::string_view get_string(std::string_view key, std::string_view fallback) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(std::string_view name) const;

 private:
  std::shared_ptr<const MappedFile> file_;
  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue, std::less<>> metadata_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string_view, size_t, std::less<>> tensor_index_;
  friend class GgufReader;
};

}  // namespace swebox::model
