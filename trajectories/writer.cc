#include "trajectories/writer.h"
#include "trajectories/export.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>

namespace swebox::traj {

using nlohmann::json;

namespace {

std::runtime_error sys_error(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

bool parses(const std::string& line) {
  return json::accept(line);
}

// Returns the bytes cut from the end of the file: a last line that lacks its newline or does not
// parse as JSON is what a crash in the middle of a write leaves behind.
size_t repair_tail(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0) throw sys_error("cannot stat", path);
  off_t size = st.st_size;
  if (size == 0) return 0;
  // Read backwards in chunks until the start of the last line is found.
  std::string tail;
  off_t pos = size;
  const off_t chunk = 1 << 16;
  size_t line_start = std::string::npos;  // offset within tail
  while (pos > 0) {
    off_t n = std::min(chunk, pos);
    pos -= n;
    std::string buf(static_cast<size_t>(n), '\0');
    if (pread(fd, buf.data(), n, pos) != n) throw sys_error("cannot read", path);
    tail.insert(0, buf);
    // The last line starts after the last '\n' that is not the file's final byte.
    size_t search_end = tail.size() - 1;
    if (search_end == 0) continue;
    size_t nl = tail.rfind('\n', search_end - 1);
    if (nl != std::string::npos) {
      line_start = nl + 1;
      break;
    }
  }
  if (line_start == std::string::npos) line_start = 0;  // the file is a single line
  std::string last = tail.substr(line_start);
  bool terminated = !last.empty() && last.back() == '\n';
  if (terminated && parses(last.substr(0, last.size() - 1))) return 0;
  off_t keep = pos + static_cast<off_t>(line_start);
  if (ftruncate(fd, keep) != 0) throw sys_error("cannot truncate the torn record of", path);
  fsync(fd);
  return static_cast<size_t>(size - keep);
}

}  // namespace

std::string dump_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

JsonlAppender::JsonlAppender(const std::string& path, bool sync) : path_(path), sync_(sync) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw sys_error("cannot open for appending", path);
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    errno = err;
    if (err == EWOULDBLOCK)
      throw std::runtime_error(path + " is being written by another process (another `swebox run` on the "
                               "same --out?); wait for it or choose another output directory");
    throw sys_error("cannot lock", path);
  }
  try {
    repaired_ = repair_tail(fd_, path);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

JsonlAppender::~JsonlAppender() {
  if (fd_ >= 0) ::close(fd_);
}

void JsonlAppender::append(const json& record) {
  std::string line = dump_line(record);
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  // One write(2) for the whole line; a short write (disk full) is finished or reported, never
  // left interleaved with another record, since this appender is the file's only writer.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("cannot append a record to", path_);
    }
    done += static_cast<size_t>(n);
  }
  if (sync_ && fdatasync(fd_) != 0) throw sys_error("cannot sync", path_);
}

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_jsonl(content, path);
}

std::vector<json> parse_jsonl(std::string_view content, const std::string& path) {
  std::vector<json> out;
  size_t pos = 0;
  int lineno = 0;
  while (pos < content.size()) {
    size_t nl = content.find('\n', pos);
    if (nl == std::string::npos) break;  // unterminated: a record still being written
    ++lineno;
    std::string_view line(content.data() + pos, nl - pos);
    pos = nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      out.push_back(json::parse(line));
    } catch (const json::exception& e) {
      throw std::runtime_error(path + ":" + std::to_string(lineno) + ": not a JSON record (" + e.what() + ")");
    }
  }
  return out;
}

std::vector<Episode> read_trajectories(const std::string& path) {
  std::vector<Episode> out;
  int lineno = 0;
  for (const json& j : read_jsonl(path)) {
    ++lineno;
    try {
      out.push_back(episode_from_json(j));
    } catch (const std::exception& e) {
      throw std::runtime_error(path + ": record " + std::to_string(lineno) + ": " + e.what());
    }
  }
  return out;
}

std::set<std::string> done_keys(const std::string& path, bool rerun_infra_errors) {
  std::set<std::string> keys;
  for (const json& j : read_jsonl(path)) {
    // Through episode_from_json's checks: a bare value("sample", 0) of 1e300 would be undefined
    // behaviour (an out-of-range float to int cast).
    Episode e;
    try {
      e = episode_from_json(j);
    } catch (const std::exception&) {
      continue;  // not an episode of ours: nothing to resume
    }
    std::string key = episode_key(e.instance_id, e.sample);
    if (rerun_infra_errors && e.outcome() == Outcome::infra_error)
      keys.erase(key);  // the last record of a key decides
    else
      keys.insert(std::move(key));
  }
  return keys;
}

std::vector<Episode> latest_per_key(std::vector<Episode> episodes) {
  std::map<std::string, size_t> slot;  // key -> index in `out`
  std::vector<Episode> out;
  for (Episode& e : episodes) {
    std::string key = episode_key(e.instance_id, e.sample);
    if (auto it = slot.find(key); it != slot.end()) {
      out[it->second] = std::move(e);
    } else {
      slot.emplace(std::move(key), out.size());
      out.push_back(std::move(e));
    }
  }
  return out;
}

void write_file_atomically(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw sys_error("cannot write", tmp);
  auto fail = [&](const char* what) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = err;
    return sys_error(what, tmp);
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  if (fdatasync(fd) != 0) throw fail("cannot sync");
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    errno = err;
    throw sys_error("cannot rename into place", path);
  }
}

}  // namespace swebox::traj
