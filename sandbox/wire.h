// The byte format spoken between the host side of the native backend, its zygote and each
// sandbox's init: a u32 length, then fields written in order (u64 numbers, doubles, strings as
// u64 length + bytes). Both ends are this same binary, so no versioning is needed.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

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

}  // namespace swebox::sandbox::wire
