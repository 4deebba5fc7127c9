#include "sandbox/prefault.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
#define MADV_POPULATE_WRITE 23
#endif

namespace swebox::sandbox::prefault {

void code() {
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void*) {
        const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          // Writable segments are private copies after the first write: mapping them in
          // read-only would not spare that fault.
          if (ph.p_type != PT_LOAD || (ph.p_flags & PF_W)) continue;
          uintptr_t start = (info->dlpi_addr + ph.p_vaddr) & ~(page - 1);
          uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz + page - 1) & ~(page - 1);
          // Older kernels say EINVAL: then the faults simply happen later.
          madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_READ);
        }
        return 0;
      },
      nullptr);
}

void writable() {
  FILE* maps = fopen("/proc/self/maps", "re");
  if (!maps) return;
  char line[512];
  while (fgets(line, sizeof line, maps)) {
    unsigned long start, end;
    char perms[8];
    if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3) continue;
    // Private and writable; not the vsyscall/vvar-like special ones (not readable as memory).
    if (perms[0] != 'r' || perms[1] != 'w' || perms[3] != 'p') continue;
    if (strstr(line, "[vvar") || strstr(line, "[vsyscall]")) continue;
    madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE);
  }
  fclose(maps);
}

}  // namespace swebox::sandbox::prefault
