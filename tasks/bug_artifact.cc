#include "tasks/bug_artifact.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace swebox::tasks {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first of `names` present in `dir`.
std::string read_one_of(const std::string& dir, std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (auto text = read_text(fs::path(dir) / name)) return *text;
  std::string list;
  for (const char* name : names) list += (list.empty() ? "" : " or ") + std::string(name);
  throw std::runtime_error("bug artifact " + dir + ": no " + list + " (an artifact holds test_script.sh, "
                           "test_files.txt, test_parser.py, bug_inject.diff and test_weaken.diff)");
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("could not write " + path.string());
}

}  // namespace

BugArtifact read_bug_artifact(const std::string& dir) {
  if (!fs::is_directory(dir)) throw std::runtime_error("bug artifact " + dir + ": not a directory");
  BugArtifact a;
  a.test_script = read_one_of(dir, {kTestScriptFile});
  a.test_files = parse_test_files(read_one_of(dir, {kTestFilesFile}));
  a.test_parser = read_one_of(dir, {kTestParserFile, "parse_test_output.py"});
  a.bug_diff = read_one_of(dir, {kBugDiffFile, "bug_patch.diff"});
  a.weaken_diff = read_one_of(dir, {kWeakenDiffFile, "test_patch.diff"});
  return a;
}

void write_bug_artifact(const std::string& dir, const BugArtifact& artifact) {
  fs::create_directories(dir);
  std::string files;
  for (const auto& f : artifact.test_files) files += f + "\n";
  write_text(fs::path(dir) / kTestScriptFile, artifact.test_script);
  write_text(fs::path(dir) / kTestFilesFile, files);
  write_text(fs::path(dir) / kTestParserFile, artifact.test_parser);
  write_text(fs::path(dir) / kBugDiffFile, artifact.bug_diff);
  write_text(fs::path(dir) / kWeakenDiffFile, artifact.weaken_diff);
}

std::vector<std::string> parse_test_files(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    size_t b = line.find_first_not_of(" \t\r");
    size_t e = line.find_last_not_of(" \t\r");
    if (b == std::string::npos) continue;
    line = line.substr(b, e - b + 1);
    if (line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

bool is_safe_repo_path(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.find('\0') != std::string::npos || path.find('\n') != std::string::npos)
    return false;
  std::istringstream in(path);
  for (std::string part; std::getline(in, part, '/');)
    if (part.empty() || part == "." || part == "..") return false;
  return path.back() != '/';
}

bool looks_like_test_file(const std::string& path) {
  std::istringstream in(path);
  std::vector<std::string> parts;
  for (std::string part; std::getline(in, part, '/');) parts.push_back(part);
  if (parts.empty()) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i] == "tests" || parts[i] == "test" || parts[i] == "testing") return true;
  const std::string& name = parts.back();
  auto ends_with = [&](const std::string& s) {
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  return (name.rfind("test_", 0) == 0 && ends_with(".py")) || ends_with("_test.py") || name == "conftest.py";
}

}  // namespace swebox::tasks
