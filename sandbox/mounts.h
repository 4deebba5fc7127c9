// The sandbox's filesystem view, built by the child inside its new mount namespace:
// a read-only tmpfs "/" holding read-only binds of the system (with the host's "/" as rootfs, an
// allowlist only: /usr, /bin, /sbin, /lib*, an /etc made of allowlisted entries and generated
// identity files, and the config's system paths; see sandbox/README.md), a fresh /proc, a minimal
// /dev, an empty /sys, a size-limited tmpfs /tmp, and the workspace: an overlay whose upper and
// work dirs live on the host (a single sandbox without a workspace: a tmpfs, Plan::scratch_workspace). The child opens every host path while it still has the host identity (so the sandbox
// user needs no permission on their ancestors), then mounts through those fds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace swebox::sandbox::mounts {

struct Plan {
  std::string rootfs = "/";          // the read-only lower of "/"
  int rootfs_fd = -1;                // O_PATH to it, opened by open_sources()
  bool allowlist = false;            // rootfs is the host's "/": show only the system allowlist
  std::vector<std::string> system_paths;  // more host paths shown (allowlist only)
  std::vector<int> system_fds;            // O_PATH to each, opened by open_sources()
  std::string hostname = "swebox";        // for the generated /etc/hostname and /etc/hosts
  // Idmapped detached mounts of the lower layers (made by the zygote, which alone may idmap),
  // one per lower_paths entry, or empty: then the lowers are bound as they are.
  std::vector<int> idmapped_lower_fds;
  std::vector<std::string> lower_paths;  // the workspace's lower layers, top first
  std::string state_path;                // holds the overlay's upper/ and work/
  // Neither lowers nor state (a single sandbox without a workspace): the workspace is a fresh
  // tmpfs of workspace_bytes (0: the tmpfs default), and reset empties it.
  bool scratch_workspace = false;
  uint64_t workspace_bytes = 0;
  std::vector<int> lower_fds;            // O_PATH to each, opened by open_sources()
  int state_fd = -1, upper_fd = -1, work_fd = -1;
  std::string workspace_mount = "/testbed";
  uint64_t tmp_bytes = 0;
  struct BindFd {
    int fd;  // opened by open_sources()
    std::string source;
    std::string target;
    bool writable;
  };
  std::vector<BindFd> binds;
};

// Child side, in the new mount namespace, before giving up the host identity: opens the rootfs
// bind sources and layers (mounts can only be cloned from the caller's own mount namespace, so fds
// opened by the parent will not do). Returns "" or what failed.
std::string open_sources(Plan& plan);

// Child side, in the new user+mount+pid namespaces (as pid 1): builds the view and pivots into
// it. The layers stay reachable for reset_workspace() under kLayersDir (mounts must be in our own
// namespace to be overlay layers; the host's are gone after the pivot); plan's fds are re-opened
// there. Returns "" or what failed.
std::string build_root(Plan& plan);

// Where init keeps the workspace layers; every command's keeper unmounts it in its own namespace.
inline constexpr const char* kLayersDir = "/.swebox-layers";

// Init side: drops the upper layer's contents and mounts a fresh overlay at the workspace.
// Every process using the old overlay must be gone (or keeps the old view). Returns "" or error.
std::string reset_workspace(const Plan& plan);

// Deletes everything below the directory `dirfd` (not the directory itself). Used for the upper
// layer and for temp state dirs.
void remove_contents(int dirfd);

// Clears the setuid and setgid bits of everything below `dirfd` (symlinks not followed): a kept
// upper layer is handed back with none, so nothing the agent left there can raise privileges.
void strip_setid_bits(int dirfd);

}  // namespace swebox::sandbox::mounts
