// The byte format spoken between the host side of the native backend, its zygote and each
// sandbox's init: a u32 length, then fields written in order (u64 numbers, doubles, strings as
// u64 length + bytes). Both ends are this same binary, so no versioning is needed. Every message's
// writer and reader are here, side by side (wire.cc), so that the two cannot drift apart.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/sandbox.h"

namespace swebox::sandbox::wire {

class Writer {
 public:
  Writer& u64(uint64_t v) {
    buf_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Writer& f64(double v) {
    buf_.append(reinterpret_cast<const char*>(&v), sizeof v);
    return *this;
  }
  Writer& str(std::string_view s) {
    u64(s.size());
    buf_.append(s.data(), s.size());
    return *this;
  }
  Writer& strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const auto& s : v) str(s);
    return *this;
  }
  // The framed message: 4-byte length, then the fields.
  std::string frame() const {
    uint32_t n = buf_.size();
    std::string out(reinterpret_cast<const char*>(&n), sizeof n);
    out += buf_;
    return out;
  }

 private:
  std::string buf_;
};

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint64_t u64() {
    uint64_t v;
    take(&v, sizeof v);
    return v;
  }
  double f64() {
    double v;
    take(&v, sizeof v);
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    if (n > data_.size() - pos_) throw std::runtime_error("wire: truncated string");
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    uint64_t n = u64();
    if (n > data_.size()) throw std::runtime_error("wire: bad count");
    std::vector<std::string> v;
    for (uint64_t i = 0; i < n; ++i) v.push_back(str());
    return v;
  }

 private:
  void take(void* p, size_t n) {
    if (n > data_.size() - pos_) throw std::runtime_error("wire: truncated message");
    std::memcpy(p, data_.data() + pos_, n);
    pos_ += n;
  }
  std::string_view data_;
  size_t pos_ = 0;
};

// Blocking helpers on a stream socket. send_frame passes `pass_fd` (if >= 0) with the message.
// Return false on EOF/error.
bool send_frame(int fd, const std::string& framed, int pass_fd = -1);
// Reads one framed message; timeout_ms < 0 waits forever. *fd_out receives a passed fd, if any.
bool recv_frame(int fd, std::string* body, int timeout_ms = -1, int* fd_out = nullptr);
// The same with up to kMaxFds fds passed (received ones are appended to *fds, close-on-exec).
inline constexpr size_t kMaxFds = 8;
bool send_frame_fds(int fd, const std::string& framed, const int* fds, size_t nfds);
bool recv_frame_fds(int fd, std::string* body, int timeout_ms, std::vector<int>* fds);

// Request kinds sent to a sandbox's init.
enum Kind : uint64_t { kRun = 1, kExec, kReadFile, kWriteFile, kListDir, kExists, kReset, kPing };

// --- messages --------------------------------------------------------------------------------
// A request's first field is its kind; the receiver reads it, then the rest with read_<message>.

// A sandbox's config (in create requests and in a shell's assignment).
void put_config(Writer& w, const Config& c);
Config read_config(Reader& r);

// Host -> zygote. A create request's bytes after its kind are the config's: the key that tells
// whether a spare made ahead fits it.
enum ZygoteRequest : uint64_t { kCreate = 1, kDestroy = 2, kTook = 3, kRelease = 4 };
std::string create_request(const Config& c);
std::string destroy_request(uint64_t id, bool with_reply, bool with_ctl);
struct DestroyRequest {
  uint64_t id = 0;
  bool with_reply = false, with_ctl = false;  // which fds came with it, in this order
};
DestroyRequest read_destroy_request(Reader& r);
std::string took_request(uint64_t id);  // a pushed spare was taken
uint64_t read_took_request(Reader& r);
std::string release_request();
std::string done_reply();  // the zygote's answer to destroy (when waited for) and release

// Zygote -> host: a sandbox made for a create request (the reply, with init's control socket),
// or a spare pushed ahead of one (with its config's key).
struct Made {
  uint64_t id = 0;
  int64_t init_pid = -1;
  std::string upper_dir, note;
};
std::string made_reply(const Made& m);
std::string failed_reply(const std::string& why);
// False (and *why) when the zygote failed.
bool read_made_reply(Reader& r, Made* m, std::string* why);
std::string spare_message(const Made& m, const std::string& key);
Made read_spare_message(Reader& r, std::string* key);

// Zygote -> a shell's child: its config and its state dir (idmapped lowers ride along as fds).
std::string assignment(const Config& c, const std::string& state_dir);
void read_assignment(Reader& r, Config* c, std::string* state_dir);

// Host -> init, and init's replies. Results of run and exec:
std::string run_request(const std::string& command, double timeout_s);
struct RunRequest {
  std::string command;
  double timeout_s = 0;
};
RunRequest read_run_request(Reader& r);
std::string exec_request(const ExecRequest& req);
ExecRequest read_exec_request(Reader& r);
std::string result_reply(const ExecResult& res);
ExecResult read_result_reply(Reader& r);
// File operations; a reply holds ok, then the data or the error.
std::string read_file_request(const std::string& path);
std::string write_file_request(const std::string& path, const std::string& data, bool create_only);
std::string list_dir_request(const std::string& path);
std::string exists_request(const std::string& path);
std::string path_of(Reader& r);  // read_file, list_dir, exists: the path
struct WriteFileRequest {
  std::string path, data;
  bool create_only = false;
};
WriteFileRequest read_write_file_request(Reader& r);
std::string status_reply(const std::string& error, const std::string& data = "");  // ok when error is ""
// False with *error_out set when the reply says it failed; else *data_out (when given) is the data.
bool read_status_reply(Reader& r, std::string* error_out, std::string* data_out = nullptr);
std::string list_dir_reply(const std::vector<DirEntry>& entries);
bool read_list_dir_reply(Reader& r, std::vector<DirEntry>* entries, std::string* error_out);
std::string exists_reply(bool yes);
bool read_exists_reply(Reader& r);
std::string reset_request();
std::string ping_request();

// Init -> a keeper waiting for its command (its fds ride along).
std::string launch_message(const std::vector<std::string>& argv, const std::string& cwd);
void read_launch_message(Reader& r, std::vector<std::string>* argv, std::string* cwd);

}  // namespace swebox::sandbox::wire
