#include "sandbox/prefault.h"

#include <cstdint>
#include <link.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22  // Linux 5.14
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

}  // namespace swebox::sandbox::prefault
