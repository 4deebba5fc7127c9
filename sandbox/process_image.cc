#include "sandbox/process_image.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/prctl.h>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include "sandbox/kernel_files.h"

namespace swebox::sandbox::process_image {

Layout read_layout() {
  Layout l;
  // /proc/self/stat: after "pid (comm) state", numbers from field 4 on.
  std::string stat = read_text("/proc/self/stat");
  size_t paren = stat.rfind(')');
  std::vector<unsigned long> f;  // f[0] is field 4
  if (paren != std::string::npos) {
    const char* p = stat.c_str() + paren + 1;
    while (*p == ' ') ++p;
    while (*p && *p != ' ') ++p;
    for (;;) {
      while (*p == ' ') ++p;
      char* end;
      unsigned long v = strtoul(p, &end, 10);
      if (end == p) break;
      f.push_back(v);
      p = end;
    }
  }
  if (f.size() < 48) return l;
  auto field = [&](int k) { return f[k - 4]; };
  l.start_code = field(26);
  l.end_code = field(27);
  l.start_stack = field(28);
  l.start_data = field(45);
  l.end_data = field(46);
  l.start_brk = field(47);
  l.arg_start = field(48);
  l.arg_end = field(49);
  l.env_start = field(50);
  l.env_end = field(51);
  if (int fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC); fd >= 0) {
    l.auxv_size = read(fd, l.auxv, sizeof l.auxv);
    close(fd);
  }
  l.ok = true;
  return l;
}

void make_neutral(const char* name, const Layout& l) {
  if (!l.ok) {
    clearenv();
    return;
  }
  // The strings themselves go, wherever they are read from.
  char* arg_start = reinterpret_cast<char*>(l.arg_start);
  char* arg_end = reinterpret_cast<char*>(l.arg_end);
  char* env_start = reinterpret_cast<char*>(l.env_start);
  char* env_end = reinterpret_cast<char*>(l.env_end);
  if (arg_end > arg_start) {
    memset(arg_start, 0, arg_end - arg_start);
    strncpy(arg_start, name, arg_end - arg_start - 1);
  }
  if (env_end > env_start) memset(env_start, 0, env_end - env_start);
  clearenv();

  // Then the kernel's ranges: argv = `name` alone, environment empty, in an anonymous page (the
  // kernel reads /proc/PID/cmdline from anonymous memory only). PR_SET_MM_MAP needs
  // CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN; without it the zeroed strings stay as they are.
  char* page = static_cast<char*>(mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (page == MAP_FAILED) return;
  strncpy(page, name, 2048);
  if (l.auxv_size <= 0) return;
  prctl_mm_map map{};
  map.start_code = l.start_code;
  map.end_code = l.end_code;
  map.start_stack = l.start_stack;
  map.start_data = l.start_data;
  map.end_data = l.end_data;
  map.start_brk = l.start_brk;
  map.brk = syscall(SYS_brk, 0);
  map.arg_start = reinterpret_cast<unsigned long>(page);
  map.arg_end = map.arg_start + strlen(page) + 1;
  map.env_start = map.env_end = map.arg_end;
  map.auxv = const_cast<__u64*>(reinterpret_cast<const __u64*>(l.auxv));
  map.auxv_size = static_cast<__u32>(l.auxv_size);
  map.exe_fd = static_cast<__u32>(-1);
  prctl(PR_SET_MM, PR_SET_MM_MAP, reinterpret_cast<unsigned long>(&map), sizeof map, 0);
}

}  // namespace swebox::sandbox::process_image
