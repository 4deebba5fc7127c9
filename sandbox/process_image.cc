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

void make_neutral(const char* name) {
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
  auto field = [&](int k) { return f[k - 4]; };
  if (f.size() < 48) {
    clearenv();
    return;
  }
  // The strings themselves go, wherever they are read from.
  char* arg_start = reinterpret_cast<char*>(field(48));
  char* arg_end = reinterpret_cast<char*>(field(49));
  char* env_start = reinterpret_cast<char*>(field(50));
  char* env_end = reinterpret_cast<char*>(field(51));
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
  unsigned long auxv[256];
  ssize_t auxv_size = -1;
  if (int fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC); fd >= 0) {
    auxv_size = read(fd, auxv, sizeof auxv);
    close(fd);
  }
  if (auxv_size <= 0) return;
  prctl_mm_map map{};
  map.start_code = field(26);
  map.end_code = field(27);
  map.start_stack = field(28);
  map.start_data = field(45);
  map.end_data = field(46);
  map.start_brk = field(47);
  map.brk = syscall(SYS_brk, 0);
  map.arg_start = reinterpret_cast<unsigned long>(page);
  map.arg_end = map.arg_start + strlen(page) + 1;
  map.env_start = map.env_end = map.arg_end;
  map.auxv = reinterpret_cast<__u64*>(auxv);
  map.auxv_size = static_cast<__u32>(auxv_size);
  map.exe_fd = static_cast<__u32>(-1);
  prctl(PR_SET_MM, PR_SET_MM_MAP, reinterpret_cast<unsigned long>(&map), sizeof map, 0);
}

}  // namespace swebox::sandbox::process_image
