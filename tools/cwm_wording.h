// CWM's own wording as a swebox template set, read from a user's copy of the public CWM repository
// (facebookresearch/cwm) at run time: `swebox templates import-cwm CHECKOUT --out DIR`. Nothing of
// CWM's text is in this repository; what is here is where each text sits in CWM's code (the
// constant, or the statement whose string literal it is) and which of our templates it becomes.
//
// The texts are Python string literals (plain, f-strings, triple-quoted, implicitly concatenated);
// f-string fields and str.format placeholders become our {placeholders} by a fixed table. A text
// that cannot be found, or a field the table does not know, is an error naming the file and the
// template, so that a changed CWM is reported rather than half imported.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace swebox::tools {

struct CwmImportError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One piece of a Python string literal group: text, or an f-string field's expression.
struct PythonStringPiece {
  bool field = false;
  std::string text;  // the decoded text, or the field's expression as written
};

// The string literals that start at `pos` (after whitespace and an opening parenthesis) and
// follow one another (Python's implicit concatenation), decoded. `end` receives the position
// after the last one. Throws CwmImportError when no literal starts there.
std::vector<PythonStringPiece> parse_python_strings(std::string_view source, size_t pos, size_t* end = nullptr);

// Template key ("prompts/system", "tools/edit_done", ...) -> text in our template syntax, read from
// the checkout's files. Throws CwmImportError naming what is missing.
std::map<std::string, std::string> import_cwm_wording(const std::string& checkout);

}  // namespace swebox::tools
