// Crash-safe JSONL files: a record is on disk whole or not at all.
//
// How: each record is one line, written with a single write(2) on an O_APPEND descriptor and
// followed by fdatasync. A kill -9 can only ever interrupt *before* or *after* that write, so a
// torn line can come only from a machine crash mid-write; opening the file for appending detects
// a last line without its newline (or one that does not parse) and truncates it away. Readers
// take complete lines only. One writer per file: the appender holds an exclusive flock.
#pragma once

#include <cstddef>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trajectories/record.h"

namespace swebox::traj {

// A JSON value as one line (no newline), with invalid UTF-8 replaced rather than thrown on:
// tool output is bytes, a record must still be written.
std::string dump_line(const nlohmann::json& j);

class JsonlAppender {
 public:
  // Opens or creates `path`; repairs a torn tail. Throws std::runtime_error naming the file when
  // it cannot be opened or another process holds it.
  explicit JsonlAppender(const std::string& path, bool sync = true);
  ~JsonlAppender();
  JsonlAppender(const JsonlAppender&) = delete;
  JsonlAppender& operator=(const JsonlAppender&) = delete;

  // Thread-safe. Throws std::runtime_error on a write error (disk full ...).
  void append(const nlohmann::json& record);
  // Bytes of a torn last record removed when the file was opened (0 for a clean file).
  size_t repaired_bytes() const { return repaired_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  bool sync_;
  size_t repaired_ = 0;
  std::mutex mu_;
};

// Every complete line of a JSONL file (an unterminated last line is a write in flight: skipped).
// A missing file is empty. Throws std::runtime_error "FILE:LINE: ..." on a line that does not parse.
std::vector<nlohmann::json> read_jsonl(const std::string& path);
// read_jsonl over a file's content; `path` names it in the errors.
std::vector<nlohmann::json> parse_jsonl(std::string_view content, const std::string& path);

std::vector<Episode> read_trajectories(const std::string& path);

// episode_key(instance, sample) of every record in a trajectories file: what --resume skips. With
// `rerun_infra_errors`, a key whose last record is an infra_error (Episode::outcome) is left out, so
// that it runs again.
std::set<std::string> done_keys(const std::string& path, bool rerun_infra_errors = false);

// The last record of each (instance, sample), in the order the keys first appear: a rerun of an
// episode appends its record, and the newest one counts.
std::vector<Episode> latest_per_key(std::vector<Episode> episodes);

// Writes `content` to a temporary file beside `path` (named with this process's id), syncs it to
// disk and renames it into place: readers, and the file after a crash, hold the old or the new
// content whole. The one way swebox writes a whole file (exports, reports, summaries). Throws
// std::runtime_error naming the file on any failure.
void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace swebox::traj
