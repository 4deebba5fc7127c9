// Text templates: every notice and prompt the agent sees lives in a file under templates/, so that
// changing wording (or serving CWM's own wording) never means changing code.
//
// A template set is a directory tree of *.txt files; a file's name relative to the root, without
// ".txt", is its key ("tools/bash_timeout"). A file's final newline is not part of the text (so a file
// may end with a newline as editors like). Placeholders are {name}; "{{" and "}}" stand for literal
// braces. Rendering a template with a placeholder that has no value is an error naming both.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace swebox::tools {

struct TemplateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using TemplateVars = std::map<std::string, std::string, std::less<>>;

// Replaces each {name} in text by vars[name]. `what` names the template in error messages.
std::string render_template(std::string_view text, const TemplateVars& vars, std::string_view what = "template");

class Templates {
 public:
  // The raw text of a template; throws TemplateError naming the key and the directories searched.
  const std::string& text(std::string_view key) const;
  bool has(std::string_view key) const;
  std::string render(std::string_view key, const TemplateVars& vars = {}) const;

  // Adds or replaces one template (tests, programmatic overrides).
  void set(std::string key, std::string text) { texts_[std::move(key)] = std::move(text); }
  // Directories the set was loaded from, default first.
  const std::string& source() const { return source_; }
  // Every template, by key (what a run's identity hashes: a changed prompt is a different run).
  const std::map<std::string, std::string, std::less<>>& all() const { return texts_; }

 private:
  friend Templates load_templates(const std::string& dir);
  std::map<std::string, std::string, std::less<>> texts_;
  std::string source_;
};

// The default template directory: $SWEBOX_TEMPLATES if set, else SWEBOX_SOURCE_DIR "/templates".
std::string default_template_dir();

// Loads the shipped defaults (SWEBOX_SOURCE_DIR/templates), then overlays every *.txt under `dir`
// (when `dir` is another directory), so a user's set only needs the files it changes.
// dir = "" means default_template_dir(). A dir that does not exist is an error.
Templates load_templates(const std::string& dir = "");

// The default set, loaded once (thread-safe).
const Templates& default_templates();

}  // namespace swebox::tools
