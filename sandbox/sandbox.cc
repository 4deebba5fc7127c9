// Backend dispatch and the small shared pieces of the contract.
#include "sandbox/sandbox.h"

#include "sandbox/native_sandbox.h"

#if __has_include("sandbox/docker_backend.h")
#include "sandbox/docker_backend.h"
#define SWEBOX_HAVE_DOCKER_BACKEND 1
#endif

namespace swebox::sandbox {

const char* to_string(StopReason r) {
  switch (r) {
    case StopReason::exited: return "exited";
    case StopReason::signaled: return "signaled";
    case StopReason::timeout: return "timeout";
    case StopReason::memory: return "memory";
    case StopReason::output_limit: return "output_limit";
    case StopReason::error: return "error";
  }
  return "unknown";
}

Backend parse_backend(const std::string& name) {
  if (name == "native") return Backend::native;
  if (name == "docker") return Backend::docker;
  throw std::invalid_argument("--backend takes native or docker, not '" + name + "'");
}

std::unique_ptr<Sandbox> make_sandbox(boost::asio::io_context& io, const Config& config, Backend backend) {
  if (backend == Backend::docker) {
#ifdef SWEBOX_HAVE_DOCKER_BACKEND
    return make_docker_sandbox(io, config);
#else
    throw SandboxError("docker backend not built");
#endif
  }
  return make_native_sandbox(io, config);
}

}  // namespace swebox::sandbox
