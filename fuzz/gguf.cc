// GGUF weight files (model/gguf): header, metadata of every type, the tensor directory.
// Input: the file's bytes.
// Properties: no crash and no read outside the input; Gguf::parse throws only GgufError; every
// tensor it accepts lies inside the input, aligned, its size that of its type and dims; every
// array's elements convert without throwing anything but GgufError.
#include "fuzz/fuzz_input.h"
#include "model/gguf.h"

using namespace swebox::model;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = swebox::fuzz::as_text(data, size);
  auto file = MappedFile::from_bytes(text);
  const uint8_t* begin = file->bytes().data();
  try {
    Gguf g = Gguf::parse(file, "fuzz.gguf");
    for (const GgufTensor& t : g.tensors()) {
      FUZZ_CHECK(t.data.data() >= begin && t.data.data() + t.data.size() <= begin + size);
      FUZZ_CHECK(t.offset % g.alignment() == 0);
      auto traits = tensor_type_traits(static_cast<uint32_t>(t.type));
      FUZZ_CHECK(traits.has_value());
      FUZZ_CHECK(t.bytes == t.elements / traits->block_elements * traits->block_bytes);
      FUZZ_CHECK(t.dims.size() >= 1 && t.dims.size() <= kGgufMaxDims);
      FUZZ_CHECK(g.find_tensor(t.name) == &t);
      volatile uint8_t sink = 0;
      for (uint8_t b : t.data) sink = sink ^ b;  // every byte readable (ASan checks)
    }
    for (const auto& [key, value] : g.metadata()) {
      try {
        if (value.type == GgufType::array) {
          if (value.element_type == GgufType::string) {
            FUZZ_CHECK(value.as_strings(key).size() == value.count);
            for (std::string_view s : value.strings)
              FUZZ_CHECK(s.empty() || (reinterpret_cast<const uint8_t*>(s.data()) >= begin &&
                                       reinterpret_cast<const uint8_t*>(s.data()) + s.size() <= begin + size));
          } else {
            FUZZ_CHECK(value.as_floats(key).size() == value.count);
            (void)value.as_ints(key);
          }
        } else {
          (void)value.as_uint(key);
        }
      } catch (const GgufError&) {
      }
    }
  } catch (const GgufError&) {
  }
  return 0;
}
