#include "sandbox/host_uids.h"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/kernel_files.h"

namespace swebox::sandbox::host_uids {

namespace {

bool parse_u32(const std::string& s, uint32_t* out) {
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 10) return false;
  unsigned long long v = std::stoull(s);
  if (v > 0xfffffffeull) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

}  // namespace

std::string read_range(Range* out) {
  Range r;
  if (const char* env = getenv("SWEBOX_UID_RANGE"); env && *env) {
    std::string s = env;
    size_t colon = s.find(':');
    if (colon == std::string::npos || !parse_u32(s.substr(0, colon), &r.start) ||
        !parse_u32(s.substr(colon + 1), &r.count) || r.start == 0 || r.count == 0 ||
        uint64_t(r.start) + r.count > 0xffffffffull)
      return "SWEBOX_UID_RANGE='" + s + "' is not START:COUNT (START > 0, both numbers, within 32 bits)";
    r.source = "$SWEBOX_UID_RANGE";
    *out = r;
    return "";
  }
  std::ifstream in("/etc/subuid");
  std::string line;
  while (std::getline(in, line)) {
    // name:start:count
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos || line.substr(0, a) != "root") continue;
    if (!parse_u32(line.substr(a + 1, b - a - 1), &r.start) || !parse_u32(line.substr(b + 1), &r.count) || r.start == 0 ||
        r.count == 0)
      return "/etc/subuid: cannot read root's entry '" + line + "' (want root:START:COUNT)";
    r.source = "/etc/subuid";
    *out = r;
    return "";
  }
  r.source = "the default range";
  *out = r;
  return "";
}

uint32_t Allotter::take(std::string* error) {
  if (!loaded_) {
    range_error_ = read_range(&range_);
    loaded_ = true;
  }
  if (!range_error_.empty()) {
    *error = range_error_;
    return 0;
  }
  for (uint64_t i = 0; i < range_.count; ++i) {
    uint32_t uid = range_.start + i;
    if (held_.count(uid)) continue;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *error = std::string("socket: ") + strerror(errno);
      return 0;
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = "swebox-sandbox-uid-" + std::to_string(uid);
    memcpy(addr.sun_path + 1, name.data(), name.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + 1 + name.size();
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0) {
      held_[uid] = fd;
      return uid;
    }
    close(fd);  // held by another swebox process
  }
  *error = "no free host uid for a sandbox in " + range_.source + " (" + std::to_string(range_.start) + ", " +
           std::to_string(range_.count) + " uids): set SWEBOX_UID_RANGE=START:COUNT";
  return 0;
}

void Allotter::give_back(uint32_t uid) {
  auto it = held_.find(uid);
  if (it == held_.end()) return;
  close(it->second);
  held_.erase(it);
}

int Allotter::idmap(uint32_t uid, std::string* error) {
  if (auto it = idmaps_.find(uid); it != idmaps_.end()) return it->second;
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return -1;
  }
  // A child in a new user namespace, kept only until its namespace is open.
  long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid == 0) {
    close(go[1]);
    char c;
    while (read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  close(go[0]);
  int fd = -1;
  if (pid < 0) {
    *error = std::string("clone of a user namespace for an idmap: ") + strerror(errno);
  } else {
    std::string proc = "/proc/" + std::to_string(pid), map = "0 " + std::to_string(uid) + " 1\n";
    if (!write_text(proc + "/uid_map", map) || !write_text(proc + "/gid_map", map))
      *error = "writing the idmap of uid " + std::to_string(uid) + ": " + strerror(errno);
    else if ((fd = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC)) < 0)
      *error = std::string("opening the idmap's user namespace: ") + strerror(errno);
  }
  close(go[1]);
  if (pid > 0)
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  if (fd >= 0) idmaps_[uid] = fd;
  return fd;
}

}  // namespace swebox::sandbox::host_uids
