// What a sandbox's first process does to itself (as nsjail's "contain"): in its new user, mount,
// pid, ipc and uts namespaces it joins its cgroups, makes its network namespace, takes its config
// from the zygote, opens what it mounts (with the host's file access), becomes the sandbox user,
// builds its filesystem view, and becomes the sandbox's init.
#include "sandbox/contain.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/identity.h"
#include "sandbox/mounts.h"
#include "sandbox/network.h"
#include "sandbox/sandbox_init.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/wire.h"

namespace swebox::sandbox::contain {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + strerror(errno); }

mounts::Plan plan_for(const Config& c, const std::string& state_dir) {
  // What the child mounts (it opens the paths itself: see mounts::open_sources).
  mounts::Plan plan;
  plan.rootfs = c.rootfs;
  plan.allowlist = c.rootfs.find_first_not_of('/') == std::string::npos;
  plan.system_paths = c.system_paths;
  plan.hostname = c.hostname;
  plan.workspace_mount = c.workspace_mount;
  plan.tmp_bytes = c.limits.tmp_bytes;
  plan.lower_paths = c.workspace_lowers;
  if (state_dir.empty()) {
    // No state dir: the zygote made none (a single sandbox without a workspace). The same cap as
    // a capped workspace's, by default half the memory limit: its pages count against it.
    plan.scratch_workspace = true;
    const Limits& l = c.limits;
    plan.workspace_bytes = l.workspace_bytes;
    if (l.memory_bytes && (!l.workspace_bytes || l.workspace_bytes > l.memory_bytes / 2))
      plan.workspace_bytes = std::max<uint64_t>(l.memory_bytes / 2, 1 << 20);
  }
  if (plan.lower_paths.empty()) plan.lower_paths.push_back(state_dir + "/empty");
  plan.state_path = state_dir;
  for (const auto& bind : c.binds) plan.binds.push_back({-1, bind.host_path, bind.sandbox_path, bind.writable});
  return plan;
}

}  // namespace

void close_all_but(std::vector<int> keep) {
  keep.push_back(0);
  keep.push_back(1);
  keep.push_back(2);
  std::sort(keep.begin(), keep.end());
  int from = 0;
  for (int fd : keep) {
    if (fd > from) syscall(SYS_close_range, from, fd - 1, 0);
    from = std::max(from, fd + 1);
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

// In the new namespaces, as their pid 1: joins its cgroups and makes its network namespace,
// waits for its config, mounts, reports on `ready`, then becomes init.
void run(const cgroup::Group& group, const std::vector<int>& procs, int ctl, int ready, int assign,
         bool made_ahead, bool own_host_uid) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto report = [&](const std::string& error) {
    std::string msg = error.empty() ? "R" : "E" + error;
    if (write(ready, msg.data(), msg.size()) < 0) {
    }
    if (!error.empty()) _exit(1);
    close(ready);
  };
  // Nothing runs before we are in our cgroups.
  if (int rc = cgroup::attach_self(procs); rc != 0)
    report(std::string("cannot move the sandbox into its cgroups: ") + strerror(-rc));
  if (unshare(CLONE_NEWNET) != 0) report(errno_text("making the network namespace"));
  std::string body;
  std::vector<int> idmapped;
  if (!wire::recv_frame_fds(assign, &body, -1, &idmapped)) _exit(1);  // the shell was discarded
  close(assign);
  prctl(PR_SET_NAME, "swebox-init");
  // Init keeps pointers to these for its whole life.
  static Config c;
  static mounts::Plan plan;
  try {
    wire::Reader r(body);
    std::string state_dir;
    wire::read_assignment(r, &c, &state_dir);
    plan = plan_for(c, state_dir);
    plan.idmapped_lower_fds = idmapped;
  } catch (const std::exception& e) {
    report(std::string("bad config from the zygote: ") + e.what());
  }
  if (std::string e = mounts::open_sources(plan); !e.empty()) report(e);
  if (int rc = user_ns::become_sandbox_user(); rc != 0)
    report(std::string("becoming the sandbox user: ") + strerror(-rc));
  if (sethostname(c.hostname.data(), c.hostname.size()) != 0) report(errno_text("sethostname"));
  if (c.network == Network::loopback)
    if (std::string e = network::bring_up_loopback(); !e.empty()) report(e);
  if (std::string e = mounts::build_root(plan); !e.empty()) report(e);
  close(plan.rootfs_fd);
  for (const auto& b : plan.binds) close(b.fd);
  for (int fd : plan.system_fds) close(fd);
  // Init stays dumpable only where the host user must reach /proc/<init>/root without privilege.
  // Otherwise its /proc files belong to root, not to the sandbox user that the agent's commands run
  // as: an agent could else write init's oom_score_adj (1000: the OOM killer's first pick) or
  // coredump_filter. (geteuid() cannot tell: init is the sandbox user by now in both cases.)
  prctl(PR_SET_DUMPABLE, own_host_uid ? 0 : 1);
  // The cgroup namespace is made now that we are in our cgroups, so that they look like "/".
  unshare(CLONE_NEWCGROUP);
  report("");
  init::Setup setup;
  setup.config = &c;
  setup.plan = &plan;
  setup.control_fd = ctl;
  setup.oom_events_fd = group.oom_events_fd;
  setup.memory_cgroup = group.memory;
  setup.pids_cgroup = group.pids;
  setup.seccomp = &seccomp_policy::program();
  setup.made_ahead = made_ahead;
  setup.own_host_uid = own_host_uid;
  init::serve(setup);
}

}  // namespace swebox::sandbox::contain
