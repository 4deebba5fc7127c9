#include "model/gguf.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace swebox::model {

// ---- types ------------------------------------------------------------------------------------

std::string_view gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::u8: return "uint8";
    case GgufType::i8: return "int8";
    case GgufType::u16: return "uint16";
    case GgufType::i16: return "int16";
    case GgufType::u32: return "uint32";
    case GgufType::i32: return "int32";
    case GgufType::f32: return "float32";
    case GgufType::boolean: return "bool";
    case GgufType::string: return "string";
    case GgufType::array: return "array";
    case GgufType::u64: return "uint64";
    case GgufType::i64: return "int64";
    case GgufType::f64: return "float64";
  }
  return "unknown";
}

namespace {
// Bytes of one scalar of a fixed-size metadata type; 0 for string, array and unknown tags.
size_t scalar_size(uint32_t tag) {
  switch (static_cast<GgufType>(tag)) {
    case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
    case GgufType::u16: case GgufType::i16: return 2;
    case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
    case GgufType::u64: case GgufType::i64: case GgufType::f64: return 8;
    default: return 0;
  }
}
bool is_known_tag(uint32_t tag) { return tag <= static_cast<uint32_t>(GgufType::f64); }
bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::u8: case GgufType::i8: case GgufType::u16: case GgufType::i16:
    case GgufType::u32: case GgufType::i32: case GgufType::u64: case GgufType::i64: return true;
    default: return false;
  }
}
bool is_signed(GgufType t) {
  return t == GgufType::i8 || t == GgufType::i16 || t == GgufType::i32 || t == GgufType::i64;
}

// Little-endian reads from bytes already known to be in range (x86 and ARM Linux are little endian).
template <typename T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
}  // namespace

std::optional<TensorTypeTraits> tensor_type_traits(uint32_t type) {
  switch (static_cast<TensorType>(type)) {
    case TensorType::f32: return TensorTypeTraits{"F32", 1, 4};
    case TensorType::f16: return TensorTypeTraits{"F16", 1, 2};
    case TensorType::bf16: return TensorTypeTraits{"BF16", 1, 2};
    case TensorType::f64: return TensorTypeTraits{"F64", 1, 8};
    case TensorType::i8: return TensorTypeTraits{"I8", 1, 1};
    case TensorType::i16: return TensorTypeTraits{"I16", 1, 2};
    case TensorType::i32: return TensorTypeTraits{"I32", 1, 4};
    case TensorType::i64: return TensorTypeTraits{"I64", 1, 8};
    // Blocks of 32: an f16 scale (and an f16 minimum for _1), then packed quants.
    case TensorType::q4_0: return TensorTypeTraits{"Q4_0", 32, 2 + 16};
    case TensorType::q4_1: return TensorTypeTraits{"Q4_1", 32, 4 + 16};
    case TensorType::q5_0: return TensorTypeTraits{"Q5_0", 32, 2 + 4 + 16};
    case TensorType::q5_1: return TensorTypeTraits{"Q5_1", 32, 4 + 4 + 16};
    case TensorType::q8_0: return TensorTypeTraits{"Q8_0", 32, 2 + 32};
    case TensorType::q8_1: return TensorTypeTraits{"Q8_1", 32, 4 + 32};
    // K-quants: super-blocks of 256.
    case TensorType::q2_k: return TensorTypeTraits{"Q2_K", 256, 16 + 64 + 2 + 2};
    case TensorType::q3_k: return TensorTypeTraits{"Q3_K", 256, 32 + 64 + 12 + 2};
    case TensorType::q4_k: return TensorTypeTraits{"Q4_K", 256, 2 + 2 + 12 + 128};
    case TensorType::q5_k: return TensorTypeTraits{"Q5_K", 256, 2 + 2 + 12 + 32 + 128};
    case TensorType::q6_k: return TensorTypeTraits{"Q6_K", 256, 128 + 64 + 16 + 2};
    case TensorType::q8_k: return TensorTypeTraits{"Q8_K", 256, 4 + 256 + 32};
  }
  return std::nullopt;
}

std::string tensor_type_name(uint32_t type) {
  if (auto t = tensor_type_traits(type)) return std::string(t->name);
  return "type " + std::to_string(type);
}

// ---- values -----------------------------------------------------------------------------------

namespace {
[[noreturn]] void wrong_kind(std::string_view key, GgufType have, std::string_view want) {
  throw GgufError("metadata '" + std::string(key) + "' is " + std::string(gguf_type_name(have)) +
                  ", not " + std::string(want));
}
}  // namespace

uint64_t GgufValue::as_uint(std::string_view key) const {
  if (type == GgufType::boolean || (is_integer(type) && !is_signed(type))) return unsigned_value;
  if (is_signed(type)) {
    if (signed_value < 0)
      throw GgufError("metadata '" + std::string(key) + "' is " + std::to_string(signed_value) +
                      ", a count must not be negative");
    return static_cast<uint64_t>(signed_value);
  }
  wrong_kind(key, type, "an integer");
}

int64_t GgufValue::as_int(std::string_view key) const {
  if (is_signed(type)) return signed_value;
  if (is_integer(type)) {
    if (unsigned_value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw GgufError("metadata '" + std::string(key) + "' is out of range");
    return static_cast<int64_t>(unsigned_value);
  }
  wrong_kind(key, type, "an integer");
}

double GgufValue::as_float(std::string_view key) const {
  if (type == GgufType::f32 || type == GgufType::f64) return float_value;
  if (is_signed(type)) return static_cast<double>(signed_value);
  if (is_integer(type)) return static_cast<double>(unsigned_value);
  wrong_kind(key, type, "a number");
}

std::string_view GgufValue::as_string(std::string_view key) const {
  if (type != GgufType::string) wrong_kind(key, type, "a string");
  return string_value;
}

const std::vector<std::string_view>& GgufValue::as_strings(std::string_view key) const {
  if (type != GgufType::array || element_type != GgufType::string)
    wrong_kind(key, type == GgufType::array ? element_type : type, "an array of strings");
  return strings;
}

namespace {
// Element i of a numeric array, converted to Out (u64 beyond int64 is the caller's to check).
template <typename Out>
Out numeric_element(GgufType type, const uint8_t* p) {
  switch (type) {
    case GgufType::f32: return static_cast<Out>(load<float>(p));
    case GgufType::f64: return static_cast<Out>(load<double>(p));
    case GgufType::u8: case GgufType::boolean: return static_cast<Out>(load<uint8_t>(p));
    case GgufType::i8: return static_cast<Out>(load<int8_t>(p));
    case GgufType::u16: return static_cast<Out>(load<uint16_t>(p));
    case GgufType::i16: return static_cast<Out>(load<int16_t>(p));
    case GgufType::u32: return static_cast<Out>(load<uint32_t>(p));
    case GgufType::i32: return static_cast<Out>(load<int32_t>(p));
    case GgufType::u64: return static_cast<Out>(load<uint64_t>(p));
    case GgufType::i64: return static_cast<Out>(load<int64_t>(p));
    default: return Out{};
  }
}
}  // namespace

std::vector<double> GgufValue::as_floats(std::string_view key) const {
  if (type != GgufType::array || !(element_type == GgufType::f32 || element_type == GgufType::f64 ||
                                   is_integer(element_type)))
    wrong_kind(key, type == GgufType::array ? element_type : type, "an array of numbers");
  std::vector<double> out(count);
  const size_t width = scalar_size(static_cast<uint32_t>(element_type));
  for (uint64_t i = 0; i < count; ++i) out[i] = numeric_element<double>(element_type, array_bytes.data() + i * width);
  return out;
}

std::vector<int64_t> GgufValue::as_ints(std::string_view key) const {
  if (type != GgufType::array || !is_integer(element_type))
    wrong_kind(key, type == GgufType::array ? element_type : type, "an array of integers");
  std::vector<int64_t> out(count);
  const size_t width = scalar_size(static_cast<uint32_t>(element_type));
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* p = array_bytes.data() + i * width;
    if (element_type == GgufType::u64 && load<uint64_t>(p) > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      throw GgufError("metadata '" + std::string(key) + "' element " + std::to_string(i) + " is out of range");
    out[i] = numeric_element<int64_t>(element_type, p);
  }
  return out;
}

// ---- the file ---------------------------------------------------------------------------------

std::shared_ptr<const MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw GgufError(path + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int err = errno;
    ::close(fd);
    throw GgufError(path + ": not a regular file" + (err ? std::string(": ") + std::strerror(err) : ""));
  }
  std::shared_ptr<MappedFile> f(new MappedFile);
  f->size_ = static_cast<size_t>(st.st_size);
  if (f->size_ > 0) {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      throw GgufError(path + ": cannot map: " + std::strerror(err));
    }
    f->data_ = static_cast<const uint8_t*>(p);
    f->mapped_ = true;
  }
  ::close(fd);
  return f;
}

std::shared_ptr<const MappedFile> MappedFile::from_bytes(std::string_view bytes) {
  std::shared_ptr<MappedFile> f(new MappedFile);
  f->copy_.assign(bytes);
  f->data_ = reinterpret_cast<const uint8_t*>(f->copy_.data());
  f->size_ = f->copy_.size();
  return f;
}

MappedFile::~MappedFile() {
  if (mapped_) munmap(const_cast<uint8_t*>(data_), size_);
}

// Reads the header, metadata and tensor directory front to back; every read is bounds-checked
// against the file, and every error names the byte offset where the bad field starts.
class GgufReader {
 public:
  GgufReader(Gguf& out, std::span<const uint8_t> bytes) : out_(out), bytes_(bytes) {}

  void read() {
    if (bytes_.size() < 4 || std::memcmp(bytes_.data(), "GGUF", 4) != 0)
      fail(0, "not a GGUF file (the first 4 bytes are not 'GGUF')");
    pos_ = 4;
    out_.version_ = u32("the version");
    if (out_.version_ == 1)
      fail(4, "GGUF version 1 is not supported (32-bit counts); convert the file with a current llama.cpp");
    if (out_.version_ != 2 && out_.version_ != 3) {
      // A byte-swapped version is a big-endian file.
      if (out_.version_ == 0x02000000 || out_.version_ == 0x03000000)
        fail(4, "a big-endian GGUF file; only little-endian files are supported");
      fail(4, "unknown GGUF version " + std::to_string(out_.version_) + " (2 and 3 are supported)");
    }
    const uint64_t tensor_count = u64("the tensor count");
    const uint64_t kv_count = u64("the metadata count");
    // Each entry takes at least 12 bytes (key length, type), each tensor at least 24 (name length,
    // dims count, type, offset): counts beyond what the file can hold are refused before any work.
    if (kv_count > remaining() / 12)
      fail(16, "metadata count " + std::to_string(kv_count) + " is more than the file can hold");
    if (tensor_count > remaining() / 24)
      fail(8, "tensor count " + std::to_string(tensor_count) + " is more than the file can hold");

    for (uint64_t i = 0; i < kv_count; ++i) read_kv(i);
    if (const GgufValue* a = out_.find("general.alignment")) {
      if (a->type != GgufType::u32)
        fail_plain("metadata 'general.alignment' must be uint32, not " +
                   std::string(gguf_type_name(a->type)));
      const uint64_t alignment = a->unsigned_value;
      if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        fail_plain("metadata 'general.alignment' is " + std::to_string(alignment) +
                   ", not a power of two");
      out_.alignment_ = alignment;
    }

    out_.tensors_.reserve(tensor_count);
    for (uint64_t i = 0; i < tensor_count; ++i) read_tensor_info(i);

    // The data section starts at the next multiple of the alignment.
    uint64_t data = pos_;
    if (data % out_.alignment_ != 0) data += out_.alignment_ - data % out_.alignment_;
    if (!out_.tensors_.empty() && data > bytes_.size())
      fail(pos_, "the file ends before its data section (at byte " + std::to_string(data) + ")");
    out_.data_offset_ = data;
    for (GgufTensor& t : out_.tensors_) {
      if (t.offset % out_.alignment_ != 0)
        fail_plain("tensor '" + std::string(t.name) + "': offset " + std::to_string(t.offset) +
                   " is not a multiple of the alignment " + std::to_string(out_.alignment_));
      const uint64_t room = bytes_.size() - data;
      if (t.offset > room || t.bytes > room - t.offset)
        fail_plain("tensor '" + std::string(t.name) + "': its " + std::to_string(t.bytes) +
                   " bytes at data offset " + std::to_string(t.offset) + " end past the end of the file (" +
                   std::to_string(bytes_.size()) + " bytes): the file is truncated or corrupt");
      t.data = bytes_.subspan(data + t.offset, t.bytes);
    }
  }

 private:
  [[noreturn]] void fail(uint64_t at, const std::string& what) const {
    throw GgufError(out_.name_ + ": at byte " + std::to_string(at) + ": " + what);
  }
  [[noreturn]] void fail_plain(const std::string& what) const { throw GgufError(out_.name_ + ": " + what); }

  uint64_t remaining() const { return bytes_.size() - pos_; }
  void need(uint64_t n, const std::string& what) const {
    if (n > remaining())
      fail(pos_, "the file ends inside " + what + " (" + std::to_string(n) + " bytes needed, " +
                     std::to_string(remaining()) + " left): the file is truncated or corrupt");
  }
  template <typename T>
  T scalar(const std::string& what) {
    need(sizeof(T), what);
    T v = load<T>(bytes_.data() + pos_);
    pos_ += sizeof(T);
    return v;
  }
  uint32_t u32(const std::string& what) { return scalar<uint32_t>(what); }
  uint64_t u64(const std::string& what) { return scalar<uint64_t>(what); }
  std::string_view string(const std::string& what) {
    const uint64_t len = u64(what + "'s length");
    need(len, what);
    std::string_view s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

  void read_kv(uint64_t index) {
    const uint64_t at = pos_;
    std::string_view key = string("metadata key " + std::to_string(index));
    if (key.empty()) fail(at, "metadata key " + std::to_string(index) + " is empty");
    const std::string key_name(key);
    const uint64_t type_at = pos_;
    const uint32_t tag = u32("the type of '" + key_name + "'");
    if (!is_known_tag(tag))
      fail(type_at, "metadata '" + key_name + "' has unknown type " + std::to_string(tag));
    GgufValue v;
    v.type = static_cast<GgufType>(tag);
    if (v.type == GgufType::array) {
      const uint64_t elem_at = pos_;
      const uint32_t elem = u32("the element type of '" + key_name + "'");
      if (!is_known_tag(elem))
        fail(elem_at, "metadata '" + key_name + "' is an array of unknown type " + std::to_string(elem));
      if (static_cast<GgufType>(elem) == GgufType::array)
        fail(elem_at, "metadata '" + key_name + "' is an array of arrays, which is not supported");
      v.element_type = static_cast<GgufType>(elem);
      const uint64_t count_at = pos_;
      v.count = u64("the length of '" + key_name + "'");
      if (v.element_type == GgufType::string) {
        if (v.count > remaining() / 8)
          fail(count_at, "metadata '" + key_name + "' says " + std::to_string(v.count) +
                             " strings, more than the file can hold");
        v.strings.reserve(v.count);
        for (uint64_t i = 0; i < v.count; ++i)
          v.strings.push_back(string("element " + std::to_string(i) + " of '" + key_name + "'"));
      } else {
        const size_t width = scalar_size(elem);
        if (v.count > remaining() / width)
          fail(count_at, "metadata '" + key_name + "' says " + std::to_string(v.count) +
                             " elements, more than the file can hold");
        v.array_bytes = bytes_.subspan(pos_, v.count * width);
        if (v.element_type == GgufType::boolean)
          for (uint8_t b : v.array_bytes)
            if (b > 1) fail(pos_, "metadata '" + key_name + "' holds a bool that is neither 0 nor 1");
        pos_ += v.count * width;
      }
    } else if (v.type == GgufType::string) {
      v.string_value = string("the value of '" + key_name + "'");
    } else {
      const std::string what = "the value of '" + key_name + "'";
      const uint64_t value_at = pos_;
      switch (v.type) {
        case GgufType::u8: v.unsigned_value = scalar<uint8_t>(what); break;
        case GgufType::boolean:
          v.unsigned_value = scalar<uint8_t>(what);
          if (v.unsigned_value > 1) fail(value_at, "metadata '" + key_name + "' is a bool that is neither 0 nor 1");
          break;
        case GgufType::u16: v.unsigned_value = scalar<uint16_t>(what); break;
        case GgufType::u32: v.unsigned_value = scalar<uint32_t>(what); break;
        case GgufType::u64: v.unsigned_value = scalar<uint64_t>(what); break;
        case GgufType::i8: v.signed_value = scalar<int8_t>(what); break;
        case GgufType::i16: v.signed_value = scalar<int16_t>(what); break;
        case GgufType::i32: v.signed_value = scalar<int32_t>(what); break;
        case GgufType::i64: v.signed_value = scalar<int64_t>(what); break;
        case GgufType::f32: v.float_value = scalar<float>(what); break;
        case GgufType::f64: v.float_value = scalar<double>(what); break;
        default: break;
      }
    }
    if (!out_.metadata_.emplace(key_name, std::move(v)).second)
      fail(at, "metadata key '" + key_name + "' appears twice");
  }

  void read_tensor_info(uint64_t index) {
    const uint64_t at = pos_;
    GgufTensor t;
    t.name = string("the name of tensor " + std::to_string(index));
    const std::string name(t.name);
    if (t.name.empty()) fail(at, "tensor " + std::to_string(index) + " has an empty name");
    const uint64_t dims_at = pos_;
    const uint32_t n_dims = u32("the dimension count of tensor '" + name + "'");
    if (n_dims == 0 || n_dims > kGgufMaxDims)
      fail(dims_at, "tensor '" + name + "' has " + std::to_string(n_dims) + " dimensions (1 to " +
                        std::to_string(kGgufMaxDims) + " are allowed)");
    t.elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim_at = pos_;
      const uint64_t dim = u64("dimension " + std::to_string(d) + " of tensor '" + name + "'");
      if (dim == 0) fail(dim_at, "tensor '" + name + "' has a dimension of 0");
      // Element counts stay below 2^62 so byte sizes of every type fit in 64 bits.
      if (dim > (uint64_t{1} << 62) / t.elements)
        fail(dim_at, "tensor '" + name + "' has more elements than any file can hold");
      t.elements *= dim;
      t.dims.push_back(dim);
    }
    const uint64_t type_at = pos_;
    const uint32_t type = u32("the type of tensor '" + name + "'");
    const auto traits = tensor_type_traits(type);
    if (!traits) fail(type_at, "tensor '" + name + "' has unknown type " + std::to_string(type));
    t.type = static_cast<TensorType>(type);
    if (t.dims[0] % traits->block_elements != 0)
      fail(dims_at, "tensor '" + name + "' is " + std::string(traits->name) + " with rows of " +
                        std::to_string(t.dims[0]) + " elements, not a multiple of its block of " +
                        std::to_string(traits->block_elements));
    t.bytes = t.elements / traits->block_elements * traits->block_bytes;
    t.offset = u64("the offset of tensor '" + name + "'");
    if (!out_.tensor_index_.emplace(t.name, out_.tensors_.size()).second)
      fail(at, "tensor '" + name + "' appears twice");
    out_.tensors_.push_back(std::move(t));
  }

  Gguf& out_;
  std::span<const uint8_t> bytes_;
  uint64_t pos_ = 0;
};

Gguf Gguf::open(const std::string& path) { return parse(MappedFile::open(path), path); }

Gguf Gguf::parse(std::shared_ptr<const MappedFile> file, std::string name) {
  Gguf g;
  g.file_ = std::move(file);
  g.name_ = std::move(name);
  GgufReader(g, g.file_->bytes()).read();
  // Tensors must not overlap: sorted by offset, each ends before the next begins.
  std::vector<const GgufTensor*> by_offset;
  for (const GgufTensor& t : g.tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i)
    if (by_offset[i - 1]->offset + by_offset[i - 1]->bytes > by_offset[i]->offset)
      throw GgufError(g.name_ + ": tensors '" + std::string(by_offset[i - 1]->name) + "' and '" +
                      std::string(by_offset[i]->name) + "' overlap in the file");
  return g;
}

const GgufValue* Gguf::find(std::string_view key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufValue& Gguf::require(std::string_view key) const {
  if (const GgufValue* v = find(key)) return *v;
  throw GgufError(name_ + ": metadata '" + std::string(key) + "' is missing");
}

namespace {
// A conversion's error, prefixed with the file's name.
template <typename F>
auto named(const std::string& file, F&& convert) {
  try {
    return convert();
  } catch (const GgufError& e) {
    throw GgufError(file + ": " + e.what());
  }
}
}  // namespace

uint64_t Gguf::get_uint(std::string_view key, uint64_t fallback) const {
  const GgufValue* v = find(key);
  return v ? named(name_, [&] { return v->as_uint(key); }) : fallback;
}

double Gguf::get_float(std::string_view key, double fallback) const {
  const GgufValue* v = find(key);
  return v ? named(name_, [&] { return v->as_float(key); }) : fallback;
}

std::string_view Gguf::get_string(std::string_view key, std::string_view fallback) const {
  const GgufValue* v = find(key);
  return v ? named(name_, [&] { return v->as_string(key); }) : fallback;
}

const GgufTensor* Gguf::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace swebox::model
