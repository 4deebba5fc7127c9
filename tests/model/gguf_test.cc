#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>

#include "model/gguf.h"
#include "model/gguf_writer.h"

using namespace swebox::model;

namespace {

std::string floats(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

// A small file with one value of every kind and two tensors.
std::string sample_file() {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_uint32("llama.block_count", 2);
  w.add_int32("signed", -7);
  w.add_uint64("big", uint64_t{1} << 40);
  w.add_float32("llama.rope.freq_base", 10000.5f);
  w.add_bool("flag", true);
  w.add_strings("tokenizer.ggml.tokens", {"<unk>", "a", "", "\xe2\x96\x81the"});
  w.add_float32s("tokenizer.ggml.scores", {0.f, -1.5f, 2.f, 3.25f});
  w.add_int32s("tokenizer.ggml.token_type", {2, 1, 1, -1});
  w.add_raw("u8", GgufType::u8, "\xff");
  w.add_raw("i8", GgufType::i8, "\xfe");
  w.add_raw("u16", GgufType::u16, std::string("\x01\x02", 2));
  w.add_raw("i16", GgufType::i16, std::string("\xff\xff", 2));
  w.add_raw("i64", GgufType::i64, std::string("\xfd\xff\xff\xff\xff\xff\xff\xff", 8));
  double f64 = -0.125;
  w.add_raw("f64", GgufType::f64, std::string(reinterpret_cast<const char*>(&f64), 8));
  // An array of u16 (element type 2, count 2) and one of bools.
  w.add_raw("u16s", GgufType::array, std::string("\x02\0\0\0\x02\0\0\0\0\0\0\0\x05\0\x06\0", 16));
  w.add_raw("bools", GgufType::array, std::string("\x07\0\0\0\x01\0\0\0\0\0\0\0\x01", 13));
  w.add_tensor("a", TensorType::f32, {2, 3}, floats({1, 2, 3, 4, 5, 6}));
  std::string q8(34, '\x01');  // one Q8_0 block: f16 scale then 32 int8
  w.add_tensor("b", TensorType::q8_0, {32}, q8);
  return w.bytes();
}

Gguf parse(const std::string& bytes, std::string name = "test.gguf") {
  return Gguf::parse(MappedFile::from_bytes(bytes), std::move(name));
}

std::string error_of(const std::string& bytes) {
  try {
    (void)parse(bytes);
  } catch (const GgufError& e) {
    return e.what();
  }
  return "";
}

template <typename T>
void poke(std::string& bytes, size_t at, T value) {
  REQUIRE(at + sizeof value <= bytes.size());
  std::memcpy(bytes.data() + at, &value, sizeof value);
}

}  // namespace

TEST_CASE("a GGUF file's metadata of every type and its tensors read back as written") {
  Gguf g = parse(sample_file());
  CHECK(g.version() == 3);
  CHECK(g.get_string("general.architecture", "") == "llama");
  CHECK(g.get_uint("llama.block_count", 0) == 2);
  CHECK(g.require("signed").as_int("signed") == -7);
  CHECK_THROWS_WITH_AS(g.require("signed").as_uint("signed"), doctest::Contains("must not be negative"),
                       GgufError);
  CHECK(g.get_uint("big", 0) == (uint64_t{1} << 40));
  CHECK(g.get_float("llama.rope.freq_base", 0) == doctest::Approx(10000.5));
  CHECK(g.get_uint("flag", 0) == 1);
  CHECK(g.get_uint("absent", 99) == 99);
  CHECK(g.get_uint("u8", 0) == 255);
  CHECK(g.require("i8").as_int("i8") == -2);
  CHECK(g.get_uint("u16", 0) == 0x0201);
  CHECK(g.require("i16").as_int("i16") == -1);
  CHECK(g.require("i64").as_int("i64") == -3);
  CHECK(g.get_float("f64", 0) == -0.125);
  CHECK(g.get_float("u8", 0) == 255.0);
  CHECK(g.require("u16s").as_ints("u16s") == std::vector<int64_t>{5, 6});
  CHECK(g.require("bools").count == 1);
  CHECK_THROWS_WITH_AS(g.require("bools").as_ints("bools"), doctest::Contains("'bools' is bool, not an array of integers"),
                       GgufError);
  const auto& tokens = g.require("tokenizer.ggml.tokens").as_strings("tokenizer.ggml.tokens");
  REQUIRE(tokens.size() == 4);
  CHECK(tokens[2].empty());
  CHECK(tokens[3] == "\xe2\x96\x81the");
  CHECK(g.require("tokenizer.ggml.scores").as_floats("s") == std::vector<double>{0, -1.5, 2, 3.25});
  CHECK(g.require("tokenizer.ggml.token_type").as_ints("t") == std::vector<int64_t>{2, 1, 1, -1});
  CHECK_THROWS_WITH_AS(g.get_string("llama.block_count", ""), doctest::Contains("test.gguf: metadata 'llama.block_count' is uint32, not a string"),
                       GgufError);
  CHECK_THROWS_WITH_AS(g.require("missing.key"), doctest::Contains("metadata 'missing.key' is missing"), GgufError);

  REQUIRE(g.tensors().size() == 2);
  const GgufTensor* a = g.find_tensor("a");
  REQUIRE(a != nullptr);
  CHECK(a->type == TensorType::f32);
  CHECK(a->dims == std::vector<uint64_t>{2, 3});
  CHECK(a->rows() == 3);
  CHECK(a->bytes == 24);
  float last;
  std::memcpy(&last, a->data.data() + 20, 4);
  CHECK(last == 6.f);
  const GgufTensor* b = g.find_tensor("b");
  REQUIRE(b != nullptr);
  CHECK(b->bytes == 34);
  CHECK(b->offset % g.alignment() == 0);
  CHECK(g.find_tensor("c") == nullptr);
}

TEST_CASE("a GGUF file with a custom alignment places tensors on it") {
  GgufWriter w;
  w.add_tensor("x", TensorType::f16, {3}, std::string(6, '\x11'));
  w.add_tensor("y", TensorType::f16, {5}, std::string(10, '\x22'));
  Gguf g = parse(w.bytes(64));
  CHECK(g.alignment() == 64);
  CHECK(g.data_offset() % 64 == 0);
  CHECK(g.find_tensor("y")->offset == 64);
  CHECK(g.find_tensor("y")->data[9] == 0x22);
}

TEST_CASE("tensor type sizes follow ggml's block layouts") {
  auto size_of = [](TensorType t, uint64_t n) {
    auto tr = tensor_type_traits(static_cast<uint32_t>(t));
    REQUIRE(tr.has_value());
    return n / tr->block_elements * tr->block_bytes;
  };
  CHECK(size_of(TensorType::f32, 256) == 1024);
  CHECK(size_of(TensorType::f16, 256) == 512);
  CHECK(size_of(TensorType::bf16, 256) == 512);
  CHECK(size_of(TensorType::q8_0, 256) == 8 * 34);
  CHECK(size_of(TensorType::q4_0, 256) == 8 * 18);
  CHECK(size_of(TensorType::q4_k, 256) == 144);
  CHECK(size_of(TensorType::q6_k, 256) == 210);
  CHECK(tensor_type_name(12) == "Q4_K");
  CHECK(tensor_type_name(4) == "type 4");  // removed from ggml (Q4_2)
}

TEST_CASE("every truncation of a GGUF file is an error that says the file is truncated") {
  const std::string whole = sample_file();
  const Gguf g = parse(whole);
  // Cut anywhere before the last tensor's last byte (what follows is padding).
  const GgufTensor* last = g.find_tensor("b");
  const size_t end = g.data_offset() + last->offset + last->bytes;
  REQUIRE(end <= whole.size());
  CHECK(end + 32 > whole.size());
  for (size_t n = 0; n < end; ++n) {
    std::string message = error_of(whole.substr(0, n));
    INFO("truncated to " << n << " bytes");
    REQUIRE(!message.empty());
    CHECK(message.rfind("test.gguf: ", 0) == 0);
    if (n >= 4) CHECK((message.find("truncated or corrupt") != std::string::npos ||
                       message.find("more than the file can hold") != std::string::npos ||
                       message.find("ends before its data section") != std::string::npos));
  }
}

TEST_CASE("a corrupt GGUF header or directory is an error naming the problem") {
  const std::string good = sample_file();
  // Header layout: magic(4) version(4) tensors(8) kvs(8); the first key at 24.
  std::string s = good;
  s[0] = 'X';
  CHECK(error_of(s).find("not a GGUF file") != std::string::npos);
  s = good;
  poke<uint32_t>(s, 4, 1);
  CHECK(error_of(s).find("version 1 is not supported") != std::string::npos);
  poke<uint32_t>(s, 4, 0x03000000);
  CHECK(error_of(s).find("big-endian") != std::string::npos);
  s = good;
  poke<uint64_t>(s, 8, uint64_t{1} << 60);
  CHECK(error_of(s).find("tensor count 1152921504606846976 is more than the file can hold") != std::string::npos);
  s = good;
  poke<uint64_t>(s, 16, ~uint64_t{0});
  CHECK(error_of(s).find("metadata count") != std::string::npos);
  s = good;
  poke<uint64_t>(s, 24, ~uint64_t{0});  // the first key's length
  CHECK(error_of(s).find("at byte 32: the file ends inside metadata key 0") != std::string::npos);
  s = good;
  // The first value's type: after the key "general.architecture" (20 bytes).
  poke<uint32_t>(s, 24 + 8 + 20, 99);
  CHECK(error_of(s).find("metadata 'general.architecture' has unknown type 99") != std::string::npos);
}

TEST_CASE("tensors that are misplaced, mistyped or overlapping are refused by name") {
  auto with = [](auto&& edit) {
    GgufWriter w;
    edit(w);
    return error_of(w.bytes());
  };
  CHECK(with([](GgufWriter& w) { w.add_tensor("q", TensorType::q8_0, {33}, std::string(34, 0)); })
            .find("tensor 'q' is Q8_0 with rows of 33 elements, not a multiple of its block of 32") !=
        std::string::npos);
  CHECK(with([](GgufWriter& w) { w.add_tensor("u", static_cast<TensorType>(77), {4}, std::string(4, 0)); })
            .find("tensor 'u' has unknown type 77") != std::string::npos);
  CHECK(with([](GgufWriter& w) {
          w.add_tensor("t", TensorType::f32, {2}, std::string(8, 0));
          w.add_tensor("t", TensorType::f32, {2}, std::string(8, 0));
        }).find("tensor 't' appears twice") != std::string::npos);
  CHECK(with([](GgufWriter& w) {
          w.add_uint32("k", 1);
          w.add_uint32("k", 2);
        }).find("metadata key 'k' appears twice") != std::string::npos);
  CHECK(with([](GgufWriter& w) { w.add_tensor("z", TensorType::f32, {0}, ""); })
            .find("tensor 'z' has a dimension of 0") != std::string::npos);
  CHECK(with([](GgufWriter& w) { w.add_tensor("five", TensorType::f32, {1, 1, 1, 1, 1}, std::string(4, 0)); })
            .find("tensor 'five' has 5 dimensions") != std::string::npos);
  CHECK(with([](GgufWriter& w) { w.add_tensor("huge", TensorType::f32, {1u << 31, 1u << 31, 4}, ""); })
            .find("tensor 'huge' has more elements than any file can hold") != std::string::npos);
  // A tensor whose data the file does not hold.
  CHECK(with([](GgufWriter& w) { w.add_tensor("big", TensorType::f32, {1024}, std::string(8, 0)); })
            .find("tensor 'big': its 4096 bytes at data offset 0 end past the end of the file") !=
        std::string::npos);
  CHECK(with([](GgufWriter& w) { w.add_uint32("general.alignment", 48); })
            .find("'general.alignment' is 48, not a power of two") != std::string::npos);
  CHECK(with([](GgufWriter& w) { w.add_string("general.alignment", "32"); })
            .find("'general.alignment' must be uint32, not string") != std::string::npos);

  // Offsets edited in place: the first tensor's offset field is the file's last directory field
  // before padding; move tensor 'b' onto 'a' (overlap) and off the alignment.
  GgufWriter w;
  w.add_tensor("a", TensorType::f32, {16}, std::string(64, 0));
  w.add_tensor("b", TensorType::f32, {16}, std::string(64, 0));
  std::string bytes = w.bytes();
  const size_t b_offset_at = bytes.find(std::string("\x01\x00\x00\x00\x00\x00\x00\x00" "b", 9)) + 9 + 4 + 8 + 4;
  REQUIRE(bytes.substr(b_offset_at, 8) == std::string("\x40\0\0\0\0\0\0\0", 8));
  poke<uint64_t>(bytes, b_offset_at, 32);
  CHECK(error_of(bytes).find("tensors 'a' and 'b' overlap") != std::string::npos);
  poke<uint64_t>(bytes, b_offset_at, 65);
  CHECK(error_of(bytes).find("tensor 'b': offset 65 is not a multiple of the alignment 32") != std::string::npos);
}

TEST_CASE("an array of arrays or a bool that is not 0 or 1 is refused") {
  GgufWriter w;
  w.add_bool("flag", true);
  std::string s = w.bytes();
  // magic, version, counts (24), key (8 + 4), type (4): the value byte.
  s[24 + 8 + 4 + 4] = 2;
  CHECK(error_of(s).find("metadata 'flag' is a bool that is neither 0 nor 1") != std::string::npos);
  GgufWriter a;
  a.add_int32s("arr", {1});
  s = a.bytes();
  poke<uint32_t>(s, 24 + 8 + 3 + 4, static_cast<uint32_t>(GgufType::array));
  CHECK(error_of(s).find("metadata 'arr' is an array of arrays") != std::string::npos);
}

TEST_CASE("a missing or unreadable GGUF path is an error naming it") {
  CHECK_THROWS_WITH_AS(Gguf::open("/nonexistent/x.gguf"), doctest::Contains("/nonexistent/x.gguf: cannot open"),
                       GgufError);
  CHECK_THROWS_WITH_AS(Gguf::open("/tmp"), doctest::Contains("/tmp: not a regular file"), GgufError);
}

TEST_CASE("stories260K.gguf reads as a llama model with its vocabulary") {
  const std::string path = std::string(SWEBOX_SHARED_DIR) + "/models/stories260K/stories260K.gguf";
  if (!std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path << " is absent");
    return;
  }
  Gguf g = Gguf::open(path);
  CHECK(g.get_string("general.architecture", "") == "llama");
  CHECK(g.get_uint("llama.block_count", 0) == 5);
  CHECK(g.get_uint("llama.embedding_length", 0) == 64);
  CHECK(g.require("tokenizer.ggml.tokens").as_strings("tokenizer.ggml.tokens").size() == 512);
  const GgufTensor* embd = g.find_tensor("token_embd.weight");
  REQUIRE(embd != nullptr);
  CHECK(embd->dims == std::vector<uint64_t>{64, 512});
  CHECK(embd->type == TensorType::f32);
}
