// Shared by the tokenizer tests: reading a file, and texts that exercise every path.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace swebox::test {

inline std::string slurp_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A peer's output: one line of space-separated token ids per text.
inline std::vector<std::vector<int32_t>> read_id_lines(const std::string& path) {
  std::vector<std::vector<int32_t>> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ids(line);
    out.emplace_back();
    for (int32_t id; ids >> id;) out.back().push_back(id);
  }
  return out;
}

// Valid UTF-8 only (the npm peers take JavaScript strings): code, 2-, 3- and 4-byte characters,
// contractions in both cases, runs of whitespace and line breaks, digits, non-ASCII spaces and
// numbers, special tokens spelled out, the empty text.
inline std::vector<std::string> varied_utf8_texts() {
  return {
      "Hello world",
      "def f(x):\n    return x ** 2  # square\n\n\n\tprint(f(3))\r\n",
      "digits 0 12 345 6789 1234567890 3.14159 1,000,000 \xd9\xa3\xd9\xa4\xd9\xa5 \xe2\x85\xab",
      "I'LL don't you're we've she'd I'm it's 'S 'tis O'Neil",
      "h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88 "
      "\xf0\x9f\x99\x82\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 "
      "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 e\xcc\x81",
      "whitespace   runs\n\n\n\t\t  \r\n end  \n  \n",
      "   leading and trailing   ",
      "\xc2\xa0non-breaking\xc2\xa0space \xe2\x80\x83" "em\xe2\x80\x83" "space \xe3\x80\x80" "ideographic",
      "<|eot_id|> spelled <|start_header_id|> in text",
      "path/to/file.py:123: AssertionError: assert {'a': 1} == {\"b\": [2, 3]}",
      "!!!??? ... --- === +++ *** ((())) {{}} [[ ]]",
      "",
      " ",
      "\n",
      "a",
  };
}

// The same plus what only byte-level readers see: invalid UTF-8, SentencePiece's own markers.
inline std::vector<std::string> varied_texts_with_invalid_utf8() {
  std::vector<std::string> texts = varied_utf8_texts();
  for (std::string t : {
        "Once upon a time, there was a little girl named Lily.",
        "Hello world",
        " leading space and trailing  ",
        "def f(x):\n    return x ** 2  # square\n\n\tprint(f(3))\n",
        "digits 0 12 345 6789 1234567890 3.14159",
        "h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x99\x82 \xe2\x84\xa2",
        "whitespace   runs\n\n\n\t\t  \r\n end",
        "invalid \xff\xfe utf-8 \xe2\x80 cut and \x80\x80 strays",
        "<s> </s> <unk> <0x41> text that spells tokens",
        "",
        " ",
        "a",
       })
    texts.push_back(t);
  return texts;
}

}  // namespace swebox::test
