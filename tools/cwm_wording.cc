#include "tools/cwm_wording.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/action_parser.h"

namespace swebox::tools {
namespace {

bool starts_string(std::string_view s, size_t i, size_t* quote_at) {
  size_t j = i;
  while (j < s.size() && j - i < 2 && std::strchr("fFrRbBuU", s[j]) && s[j] != '\0') ++j;
  if (j < s.size() && (s[j] == '"' || s[j] == '\'')) {
    *quote_at = j;
    return true;
  }
  return false;
}

// Skips whitespace, line continuations and comments between concatenated literals.
size_t skip_blank(std::string_view s, size_t i) {
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    else if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\n') i += 2;
    else if (s[i] == '#') i = s.find('\n', i) == std::string_view::npos ? s.size() : s.find('\n', i);
    else break;
  }
  return i;
}

void add_text(std::vector<PythonStringPiece>& out, std::string_view text) {
  if (text.empty()) return;
  if (out.empty() || out.back().field) out.push_back({false, ""});
  out.back().text.append(text);
}

// The end of an f-string field's expression: the '}' (or ':'/'!' format part) at depth 0.
size_t field_end(std::string_view s, size_t i, size_t limit) {
  int depth = 0;
  char quote = 0;
  for (; i < limit; ++i) {
    char c = s[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || (c == '}' && depth > 0)) {
      --depth;
    } else if (depth == 0 && (c == '}' || c == ':' || c == '!')) {
      return i;
    }
  }
  throw CwmImportError("an f-string field is not closed");
}

}  // namespace

std::vector<PythonStringPiece> parse_python_strings(std::string_view s, size_t pos, size_t* end) {
  std::vector<PythonStringPiece> out;
  pos = skip_blank(s, pos);
  if (pos < s.size() && s[pos] == '(') pos = skip_blank(s, pos + 1);
  size_t quote_at = 0;
  if (!starts_string(s, pos, &quote_at)) throw CwmImportError("no string literal where one was expected");
  while (starts_string(s, pos, &quote_at)) {
    std::string prefix(s.substr(pos, quote_at - pos));
    for (auto& c : prefix) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool raw = prefix.find('r') != std::string::npos, fstring = prefix.find('f') != std::string::npos;
    const char q = s[quote_at];
    const bool triple = s.substr(quote_at, 3) == std::string(3, q);
    const std::string closing = triple ? std::string(3, q) : std::string(1, q);
    size_t i = quote_at + closing.size();
    // The body's end: the first closing quote not escaped.
    size_t close = i;
    for (;; ++close) {
      if (close >= s.size()) throw CwmImportError("a string literal is not closed");
      if (s[close] == '\\') {
        ++close;
        continue;
      }
      if (s.substr(close, closing.size()) == closing) break;
      if (!triple && s[close] == '\n') throw CwmImportError("a string literal is not closed on its line");
    }
    std::string text;
    auto flush = [&] {
      add_text(out, text);
      text.clear();
    };
    while (i < close) {
      char c = s[i];
      if (c == '\\' && !raw) {
        char n = s[i + 1];
        switch (n) {
          case 'n': text += '\n'; break;
          case 't': text += '\t'; break;
          case 'r': text += '\r'; break;
          case '\\': text += '\\'; break;
          case '\'': text += '\''; break;
          case '"': text += '"'; break;
          case '\n': break;  // a continued line
          default: text += '\\'; text += n;
        }
        i += 2;
      } else if (fstring && c == '{' && s[i + 1] == '{') {
        text += '{';
        i += 2;
      } else if (fstring && c == '}' && s[i + 1] == '}') {
        text += '}';
        i += 2;
      } else if (fstring && c == '{') {
        size_t e = field_end(s, i + 1, close);
        flush();
        out.push_back({true, std::string(s.substr(i + 1, e - i - 1))});
        i = s.find('}', e);  // a format spec ({i:6}) is dropped with the field
        if (i == std::string_view::npos || i >= close) throw CwmImportError("an f-string field is not closed");
        ++i;
      } else {
        text += c;
        ++i;
      }
    }
    flush();
    pos = skip_blank(s, close + closing.size());
  }
  if (end) *end = pos;
  return out;
}

namespace {

struct Source {
  std::string path;  // relative to the checkout
  std::string text;
};

Source read_source(const std::string& checkout, const std::string& rel) {
  std::ifstream in(checkout + "/" + rel, std::ios::binary);
  if (!in)
    throw CwmImportError("cannot read " + checkout + "/" + rel +
                         ": is this a checkout of facebookresearch/cwm? (the file holds CWM's wording)");
  std::stringstream ss;
  ss << in.rdbuf();
  return {rel, ss.str()};
}

// Our template syntax: literal braces doubled.
std::string escape_braces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '{' || c == '}') out += c;
    out += c;
  }
  return out;
}

// The literal group after the anchors, found one after another in the source.
struct Found {
  std::vector<PythonStringPiece> pieces;
  size_t end = 0;
};

Found literal_after(const Source& src, std::initializer_list<std::string_view> anchors, const std::string& key) {
  size_t at = 0;
  for (std::string_view a : anchors) {
    size_t p = src.text.find(a, at);
    if (p == std::string::npos)
      throw CwmImportError(src.path + ": '" + std::string(a) + "' not found (looking for the text of " + key +
                           "); this CWM version is not one the importer knows");
    at = p + a.size();
  }
  Found f;
  try {
    f.pieces = parse_python_strings(src.text, at, &f.end);
  } catch (const CwmImportError& e) {
    throw CwmImportError(src.path + ": the text of " + key + ": " + e.what());
  }
  return f;
}

// An f-string's pieces in our syntax; `fields` maps each expression to what replaces it (text in
// our syntax, e.g. "{count}" or "[{lines}]").
std::string from_fstring(const Found& f, const std::map<std::string, std::string>& fields, const Source& src,
                         const std::string& key) {
  std::string out;
  for (const PythonStringPiece& p : f.pieces) {
    if (!p.field) {
      out += escape_braces(p.text);
      continue;
    }
    auto it = fields.find(p.text);
    if (it == fields.end())
      throw CwmImportError(src.path + ": the text of " + key + " has a field {" + p.text +
                           "} the importer does not know");
    out += it->second;
  }
  return out;
}

// A str.format template (a constant used with .format): its {name} placeholders are renamed by
// `names`, literal {{ }} stay as they are (our syntax is the same).
std::string from_format_template(const Found& f, const std::map<std::string, std::string>& names, const Source& src,
                                 const std::string& key) {
  std::string text;
  for (const PythonStringPiece& p : f.pieces) text += p.text;
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if ((text[i] == '{' || text[i] == '}') && i + 1 < text.size() && text[i + 1] == text[i]) {
      out += text.substr(i, 2);
      i += 2;
    } else if (text[i] == '{') {
      size_t close = text.find('}', i);
      if (close == std::string::npos) throw CwmImportError(src.path + ": the text of " + key + " has an unclosed {");
      std::string name = text.substr(i + 1, close - i - 1);
      auto it = names.find(name);
      if (it == names.end())
        throw CwmImportError(src.path + ": the text of " + key + " has a placeholder {" + name +
                             "} the importer does not know");
      out += it->second;
      i = close + 1;
    } else {
      out += text[i++];
    }
  }
  return out;
}

// A module-level constant NAME = """...""" (with .strip() applied when the source applies it).
std::string constant(const Source& src, const std::string& name, const std::map<std::string, std::string>& names,
                     const std::string& key) {
  Found f = literal_after(src, {"\n" + name + " = "}, key);
  std::string text = from_format_template(f, names, src, key);
  if (src.text.compare(f.end, 8, ".strip()") == 0) text = std::string(python_strip(text));
  return text;
}

// SYSTEM_UBUNTU's parts: what precedes the tool specifications, each "<tool: NAME>...</tool>\n
// description" block, and what follows them.
struct Environment {
  std::string head, tail;
  std::map<std::string, std::string> specs;
};

Environment split_environment(const std::string& env, const std::string& where) {
  Environment e;
  size_t p = env.find("\n<tool: ");
  if (p == std::string::npos) throw CwmImportError(where + ": no tool specification found in the environment prompt");
  e.head = env.substr(0, p + 1);
  p += 1;
  while (env.compare(p, 7, "<tool: ") == 0) {
    size_t name_end = env.find('>', p);
    size_t close = env.find("\n</tool>\n", p);
    if (name_end == std::string::npos || close == std::string::npos)
      throw CwmImportError(where + ": a tool specification is not closed");
    size_t line_end = env.find('\n', close + 9);
    if (line_end == std::string::npos) line_end = env.size();
    e.specs[env.substr(p + 7, name_end - p - 7)] = env.substr(p, line_end - p);
    p = line_end;
    if (env.compare(p, 2, "\n\n") == 0 && env.compare(p + 2, 7, "<tool: ") == 0) p += 2;
    else break;
  }
  e.tail = env.substr(p);
  // Our system template joins the specs with a blank line: head must end with one before them.
  if (e.head.size() < 2 || e.head.compare(e.head.size() - 2, 2, "\n\n") != 0)
    throw CwmImportError(where + ": the tool specifications do not start after a blank line");
  return e;
}

}  // namespace

// tools/edit_not_utf8. CWM's edit plugin does not refuse a file that is not UTF-8: its
// open(path).read() raises, and the observation is Python's traceback. That text is Python's own, so
// it is made by running the checkout's plugin under the host's python3 (the one a sandbox shows: it
// sees the host's /usr) on a Latin-1 file; the plugin's path becomes the one CWM mounts it at
// (PLUGIN_BIND_TARGET) and the decode error the placeholder {decode_error} (edit_tool.cc renders it
// as CPython words it).
std::string edit_not_utf8_traceback(const std::string& checkout, const Source& configs) {
  const std::string key = "tools/edit_not_utf8";
  const std::string bind = constant(configs, "PLUGIN_BIND_TARGET", {}, key);
  std::error_code ec;
  const std::string plugin = std::filesystem::canonical(checkout + "/cwm/rl/swerl/plugins/edit.py", ec).string();
  if (ec) throw CwmImportError("cannot find " + checkout + "/cwm/rl/swerl/plugins/edit.py (" + key + ")");
  const char* python = "/usr/bin/python3";
  if (access(python, X_OK) != 0)
    throw CwmImportError(std::string(python) + " is missing: import-cwm runs CWM's edit plugin with it to take " + key +
                         " (scripts/setup.sh installs it)");
  char dir[] = "/tmp/swebox-import-cwm-XXXXXX";
  if (!mkdtemp(dir)) throw CwmImportError(std::string("cannot make a temp dir: ") + strerror(errno));
  struct RemoveDir {
    std::string path;
    ~RemoveDir() {
      std::error_code e;
      std::filesystem::remove_all(path, e);
    }
  } remove_dir{dir};
  { std::ofstream(std::string(dir) + "/x.txt", std::ios::binary) << "caf\xe9\n"; }
  const std::string command = "x.txt\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE";
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    throw CwmImportError(std::string("pipe: ") + strerror(errno));
  pid_t pid = fork();
  if (pid < 0) throw CwmImportError(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (chdir(dir) != 0) _exit(127);
    dup2(in[0], 0);
    dup2(null, 1);
    dup2(err[1], 2);
    char lang[] = "LANG=C.UTF-8", path[] = "PATH=/usr/bin:/bin";
    char* envp[] = {lang, path, nullptr};
    execle(python, "python3", plugin.c_str(), static_cast<char*>(nullptr), envp);
    _exit(127);
  }
  close(in[0]);
  close(err[1]);
  if (write(in[1], command.data(), command.size()) < 0) {
  }
  close(in[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string last = "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe9 in position 3: invalid continuation byte\n";
  if (text.size() < last.size() || text.compare(text.size() - last.size(), last.size(), last) != 0 ||
      text.rfind("Traceback (most recent call last):\n", 0) != 0)
    throw CwmImportError(plugin + " run on a Latin-1 file did not end in Python's UnicodeDecodeError (" + key +
                         "); it printed: " + text.substr(0, 600));
  text.resize(text.size() - last.size());
  const std::string from = "\"" + plugin + "\"", to = "\"" + bind + "/edit.py\"";
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return escape_braces(text) + "UnicodeDecodeError: 'utf-8' codec {decode_error}";
}

std::map<std::string, std::string> import_cwm_wording(const std::string& checkout) {
  std::map<std::string, std::string> t;
  const Source env_src = read_source(checkout, "cwm/rl/envs/envs/swerl_tool.py");
  const Source prompts = read_source(checkout, "cwm/rl/envs/prompts.py");
  const Source tools_src = read_source(checkout, "cwm/rl/swerl/tools.py");
  const Source parser = read_source(checkout, "cwm/rl/swerl/default_tools.py");
  const Source edit = read_source(checkout, "cwm/rl/swerl/plugins/edit.py");
  const Source create = read_source(checkout, "cwm/rl/swerl/plugins/create.py");
  const std::map<std::string, std::string> none;

  // ---- prompts: CWM's get_cwm_sys_prompt joins the persona and "# Environment" block with a blank
  // line; the environment is SYSTEM_UBUNTU, whose tool specifications become tools/spec_NAME.
  Found description = literal_after(prompts, {"description: str = "}, "prompts/persona");
  std::string persona;
  for (const auto& p : description.pieces) persona += p.text;
  t["prompts/persona"] = escape_braces(persona);
  const std::map<std::string, std::string> desc{{"description", escape_braces(persona)}};
  t["prompts/persona_think_tag"] = std::string(python_strip(constant(prompts, "CWM_THINKTAG_SYS_PROMPT", desc, "prompts/persona_think_tag")));
  t["prompts/persona_think_token"] =
      std::string(python_strip(constant(prompts, "CWM_THINKTOKEN_SYS_PROMPT", desc, "prompts/persona_think_token")));
  const std::map<std::string, std::string> env_names{{"session_timeout", "{session_timeout}"},
                                                     {"context_size", "{context_size}"},
                                                     {"max_turns", "{max_turns}"}};
  Environment env = split_environment(constant(env_src, "SYSTEM_UBUNTU", env_names, "prompts/system"), env_src.path);
  for (const char* name : {"bash", "edit", "create", "submit"}) {
    auto it = env.specs.find(name);
    if (it == env.specs.end()) throw CwmImportError(env_src.path + ": no specification of the " + std::string(name) + " tool");
    t[std::string("tools/spec_") + name] = it->second;
  }
  std::string env_block = std::string(python_strip(
      constant(prompts, "ENV_PROMPT", {{"environment", "\x01"}}, "prompts/system")));
  size_t marker = env_block.find('\x01');
  if (marker == std::string::npos) throw CwmImportError(prompts.path + ": ENV_PROMPT has no {environment}");
  env_block.replace(marker, 1, env.head + "{tool_specs}" + env.tail);
  t["prompts/system"] = "{persona}\n\n" + env_block;
  t["prompts/task"] = constant(env_src, "USER_ISSUE_SOLVING", {{"issue", "{problem_statement}"}, {"repo_root", "{repo_root}"}},
                               "prompts/task");

  // ---- observation framing and the submission notice
  t["tools/observation_output"] = constant(env_src, "FEEDBACK_OUTPUT_PROMPT", {{"feedback", "{feedback}"}}, "tools/observation_output");
  t["tools/observation_budget"] =
      constant(env_src, "BUDGET_NOTICE_TEMPLATE",
               {{"remaining_turns", "{remaining_turns}"}, {"remaining_tokens", "{remaining_tokens}"}}, "tools/observation_budget");
  t["tools/submit_done"] = constant(env_src, "SUBMISSION_FEEDBACK_PROMPT", {{"pred_patch", "{patch}"}}, "tools/submit_done");
  t["tools/parse_think_marker_count"] = from_fstring(
      literal_after(env_src, {"raise swerl.errors.FormatError("}, "tools/parse_think_marker_count"),
      {{"num_ending_tokens", "{count}"}}, env_src, "tools/parse_think_marker_count");

  // ---- bash (bash_feedback_default) and submit (submit_diff_file)
  t["tools/bash_ended"] = from_fstring(literal_after(tools_src, {"\"exit\", \"broken_pipe\", \"other\"]", "feedback ="}, "tools/bash_ended"),
                                       none, tools_src, "tools/bash_ended");
  t["tools/bash_timeout"] = from_fstring(literal_after(tools_src, {"== \"timeout\"", "feedback ="}, "tools/bash_timeout"), none,
                                         tools_src, "tools/bash_timeout");
  t["tools/bash_too_long"] = from_fstring(literal_after(tools_src, {"== \"too_long\"", "feedback ="}, "tools/bash_too_long"), none,
                                          tools_src, "tools/bash_too_long");
  std::string fresh = from_fstring(literal_after(tools_src, {"feedback +="}, "tools/bash_fresh_session"), none, tools_src,
                                   "tools/bash_fresh_session");
  // We join the cause and this notice with one space; CWM's literal starts with it.
  if (fresh.empty() || fresh[0] != ' ')
    throw CwmImportError(tools_src.path + ": the fresh-session notice does not start with a space");
  t["tools/bash_fresh_session"] = fresh.substr(1);
  t["tools/parse_no_such_tool"] = from_fstring(literal_after(tools_src, {"def apply_tool", "raise NoSuchToolError("}, "tools/parse_no_such_tool"),
                                               {{"tool_name", "{tool}"}}, tools_src, "tools/parse_no_such_tool");
  const std::map<std::string, std::string> path{{"path", "{path}"}};
  t["tools/submit_unreadable"] = from_fstring(literal_after(tools_src, {"def submit_diff_file", "error ="}, "tools/submit_unreadable"),
                                              path, tools_src, "tools/submit_unreadable");
  t["tools/submit_empty"] = from_fstring(literal_after(tools_src, {"def submit_diff_file", "error =", "error ="}, "tools/submit_empty"),
                                         path, tools_src, "tools/submit_empty");
  t["tools/submit_not_diff"] =
      from_fstring(literal_after(tools_src, {"def submit_diff_file", "error =", "error =", "error ="}, "tools/submit_not_diff"),
                   path, tools_src, "tools/submit_not_diff");

  // ---- the call parser (parse_tool_calls): its four FormatErrors in order
  t["tools/parse_many_calls"] = from_fstring(
      literal_after(parser, {"raise FormatError("}, "tools/parse_many_calls"),
      {{"len(tool_calls)", "{count}"}, {"', '.join(tool_names)", "{names}"}}, parser, "tools/parse_many_calls");
  t["tools/parse_tag_mismatch"] = from_fstring(
      literal_after(parser, {"raise FormatError(", "raise FormatError("}, "tools/parse_tag_mismatch"),
      {{"len(tool_calls)", "{calls}"}, {"num_opening_tags", "{opening}"}, {"num_closing_tags", "{closing}"}}, parser,
      "tools/parse_tag_mismatch");
  t["tools/parse_no_call"] = from_fstring(
      literal_after(parser, {"raise FormatError(", "raise FormatError(", "raise FormatError("}, "tools/parse_no_call"), none,
      parser, "tools/parse_no_call");
  t["tools/parse_blank_body"] = from_fstring(
      literal_after(parser, {"raise FormatError(", "raise FormatError(", "raise FormatError(", "raise FormatError("},
                    "tools/parse_blank_body"),
      {{"tool_name", "{tool}"}}, parser, "tools/parse_blank_body");

  // ---- edit (plugins/edit.py)
  {
    Found parse_error = literal_after(edit, {"\nPARSE_ERROR = "}, "tools/edit_no_block");
    std::string text;
    for (const auto& p : parse_error.pieces) text += p.text;
    if (edit.text.compare(parse_error.end, 8, ".strip()") == 0) text = std::string(python_strip(text));
    t["tools/edit_no_block"] = escape_braces(text);
  }
  t["tools/edit_many_blocks"] = from_fstring(
      literal_after(edit, {"if len(predicted_path_search_replaces) > 1:", "False,"}, "tools/edit_many_blocks"),
      {{"len(predicted_path_search_replaces)", "{count}"}}, edit, "tools/edit_many_blocks");
  t["tools/edit_path_missing"] = from_fstring(literal_after(edit, {"if not os.path.exists(path):", "False,"}, "tools/edit_path_missing"),
                                              path, edit, "tools/edit_path_missing");
  t["tools/edit_not_found"] = from_fstring(literal_after(edit, {"if len(occurrences) == 0:", "message ="}, "tools/edit_not_found"),
                                           path, edit, "tools/edit_not_found");
  std::string hint = from_fstring(literal_after(edit, {"if len(occurrences) == 0:", "message +="}, "tools/edit_indent_hint"), path,
                                  edit, "tools/edit_indent_hint");
  if (hint.empty() || hint[0] != ' ') throw CwmImportError(edit.path + ": the indentation hint does not start with a space");
  t["tools/edit_indent_hint"] = hint.substr(1);  // we join the two with one space
  t["tools/edit_many_matches"] = from_fstring(
      literal_after(edit, {"elif len(occurrences) > 1:", "False,"}, "tools/edit_many_matches"),
      {{"linenums", "[{lines}]"}, {"path", "{path}"}}, edit, "tools/edit_many_matches");
  t["tools/edit_done"] = from_fstring(
      literal_after(edit, {"snippet_content =", "message = "}, "tools/edit_done"),
      {{"path", "{path}"}, {"line", "{line}"}, {"num_lines", "{num_lines}"}, {"snippet_content", "{snippet}"}}, edit,
      "tools/edit_done");
  t["tools/edit_not_utf8"] = edit_not_utf8_traceback(checkout, read_source(checkout, "cwm/rl/swerl/default_configs.py"));

  // ---- create (plugins/create.py)
  t["tools/create_exists"] = from_fstring(literal_after(create, {"if os.path.exists(path):", "False,"}, "tools/create_exists"), path,
                                          create, "tools/create_exists");
  t["tools/create_empty_path"] = from_fstring(literal_after(create, {"if path == \"\":", "False,"}, "tools/create_empty_path"), none,
                                              create, "tools/create_empty_path");
  t["tools/create_no_parent"] = from_fstring(
      literal_after(create, {"if not os.path.exists(parent_dir):", "False,"}, "tools/create_no_parent"),
      {{"parent_dir", "{parent}"}}, create, "tools/create_no_parent");
  t["tools/create_done"] = from_fstring(literal_after(create, {"f.write(new_content)", "True,"}, "tools/create_done"),
                                        {{"path", "{path}"}, {"num_lines", "{num_lines}"}}, create, "tools/create_done");
  return t;
}

}  // namespace swebox::tools
