// The zygote process itself (see zygote.h for what it is and the host's side): serves requests
// from its host on `host_fd` and pushes sandboxes made ahead on `spares_fd`; exits (tearing every
// sandbox down) when the host goes away. Without `make_ahead` (a host that makes one sandbox), it
// makes nothing ahead of requests.
#pragma once

namespace swebox::sandbox::zygote {

[[noreturn]] void serve(int host_fd, int spares_fd, bool make_ahead);

}  // namespace swebox::sandbox::zygote
