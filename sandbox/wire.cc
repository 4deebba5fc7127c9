#include "sandbox/wire.h"

#include <cerrno>
#include <chrono>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace swebox::sandbox::wire {

bool send_frame(int fd, const std::string& framed, int pass_fd) {
  return pass_fd >= 0 ? send_frame_fds(fd, framed, &pass_fd, 1) : send_frame_fds(fd, framed, nullptr, 0);
}

bool send_frame_fds(int fd, const std::string& framed, const int* fds, size_t nfds) {
  size_t off = 0;
  if (nfds > kMaxFds) return false;
  if (nfds) {
    // The fds ride with the first byte.
    char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    iovec iov{const_cast<char*>(framed.data()), framed.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    ssize_t n;
    do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    off = n;
  }
  while (off < framed.size()) {
    ssize_t n = send(fd, framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

namespace {
// Waits for readability; false on timeout.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline, bool forever) {
  for (;;) {
    int ms = -1;
    if (!forever) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      ms = left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
    }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}
}  // namespace

bool recv_frame(int fd, std::string* body, int timeout_ms, int* fd_out) {
  if (fd_out) *fd_out = -1;
  std::vector<int> fds;
  bool ok = recv_frame_fds(fd, body, timeout_ms, &fds);
  // Only the first passed fd is wanted here.
  for (size_t i = 0; i < fds.size(); ++i) {
    if (i == 0 && fd_out) *fd_out = fds[i];
    else close(fds[i]);
  }
  return ok;
}

bool recv_frame_fds(int fd, std::string* body, int timeout_ms, std::vector<int>* fds) {
  bool forever = timeout_ms < 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(forever ? 0 : timeout_ms);
  uint32_t len = 0;
  size_t got = 0;
  char* hdr = reinterpret_cast<char*>(&len);
  while (got < sizeof len) {
    if (!wait_readable(fd, deadline, forever)) return false;
    char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    iovec iov{hdr + got, sizeof len - got};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int passed;
          std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds->push_back(passed);
        }
      }
    }
    got += n;
  }
  body->resize(len);
  got = 0;
  while (got < len) {
    ssize_t n = recv(fd, body->data() + got, len - got, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!wait_readable(fd, deadline, forever)) return false;
      continue;
    }
    if (n <= 0) return false;
    got += n;
  }
  return true;
}

}  // namespace swebox::sandbox::wire
