// Tokenizer files (model/sentencepiece, model/bpe, model/gguf_vocab): a llama2.c tokenizer.bin, a
// tiktoken ranks file, a HuggingFace tokenizer.json, a GGUF vocabulary; then encoding with what was
// read. Input: a selector byte (which reader), then TEXT `\0` FILE.
// Properties: no crash, no read outside the input; the readers throw only TokenizerError; every id
// encode returns is inside the vocabulary and its piece readable; decode of them does not throw.
#include "fuzz/fuzz_input.h"
#include "model/bpe.h"
#include "model/gguf.h"
#include "model/gguf_vocab.h"
#include "model/sentencepiece.h"

using namespace swebox::model;

namespace {

std::unique_ptr<Tokenizer> read(uint8_t selector, std::string_view file) {
  switch (selector % 4) {
    case 0: return parse_llama2c_tokenizer(file, "fuzz.bin");
    case 1: return parse_tiktoken_ranks(file, "fuzz.tiktoken");
    case 2: return parse_tokenizer_json(file, "fuzz.json");
    default:
      try {
        return tokenizer_from_gguf(Gguf::parse(MappedFile::from_bytes(file), "fuzz.gguf"));
      } catch (const GgufError& e) {
        throw TokenizerError(e.what());
      }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto in = swebox::fuzz::parts(swebox::fuzz::as_text(data + 1, size - 1), 2);
  std::unique_ptr<Tokenizer> tokenizer;
  try {
    tokenizer = read(data[0], in[1]);
  } catch (const TokenizerError&) {
    return 0;
  }
  for (bool special : {false, true}) {
    std::vector<int32_t> ids = tokenizer->encode(in[0], {.add_bos = true, .add_eos = true, .parse_special = special});
    for (int32_t id : ids) {
      FUZZ_CHECK(id >= 0 && id < tokenizer->vocab_size());
      (void)tokenizer->piece(id).size();
    }
    (void)tokenizer->decode(ids);
  }
  return 0;
}
