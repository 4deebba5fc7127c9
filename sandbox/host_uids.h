// One host uid per live sandbox (native backend, host process root). Each sandbox's user (uid and
// gid 1000 inside) is a host uid of its own, taken from a range and given back at teardown, and
// its user namespace is created by that uid, so per-user kernel quotas (inotify instances and
// watches, RLIMIT_NPROC, message queues, ...) are the sandbox's own and never host root's.
//
// The range: $SWEBOX_UID_RANGE ("START:COUNT"), else root's entry in /etc/subuid, else
// kDefaultStart:kDefaultCount. A uid is held host-wide (across swebox processes) by binding an
// abstract unix socket named after it; the kernel drops the name when its holder exits.
// The gid is the same number. Unprivileged callers map their own uid instead (the only one they may).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace swebox::sandbox::host_uids {

inline constexpr uint32_t kDefaultStart = 0x70000000;  // 1879048192: far above any login or subuid range
inline constexpr uint32_t kDefaultCount = 65536;

struct Range {
  uint32_t start = kDefaultStart;
  uint32_t count = kDefaultCount;
  std::string source;  // where it came from, for messages
};

// Reads the range (see above). Returns "" or what is wrong with $SWEBOX_UID_RANGE or /etc/subuid.
std::string read_range(Range* out);

// Zygote side (single-threaded).
class Allotter {
 public:
  // Reads the range now (before the environment is wiped); take() reports a bad one.
  void load() {
    range_error_ = read_range(&range_);
    loaded_ = true;
  }
  // The lowest free uid of the range, now held. 0 with *error when none is free.
  uint32_t take(std::string* error);
  void give_back(uint32_t uid);
  // The fd whose bound name holds `uid` (-1 when not held): a process that shares this one's
  // memory but not its fds (zygote::create_direct) keeps it open, and closes its own copy.
  // Whether `uid` is one of the range's (after load()).
  bool in_range(uint32_t uid) const { return uid >= range_.start && uid - range_.start < range_.count; }
  int held_fd(uint32_t uid) const {
    auto it = held_.find(uid);
    return it == held_.end() ? -1 : it->second;
  }
  // A user namespace (fd) mapping uid and gid 0 to `uid`: the idmap that shows the root-owned
  // workspace lowers as owned by that sandbox's user. Made once per uid, then cached. -1 with *error.
  int idmap(uint32_t uid, std::string* error);

 private:
  bool loaded_ = false;
  Range range_;
  std::string range_error_;
  std::map<uint32_t, int> held_;    // uid -> the socket that holds its name
  std::map<uint32_t, int> idmaps_;  // uid -> user namespace fd
};

}  // namespace swebox::sandbox::host_uids
