// The Docker backend of the sandbox interface (sandbox.h): one container per sandbox, created from
// a local image over the Engine API (docker_api.h); no docker CLI involved.
//
// The container: read-only root filesystem, the workspace an anonymous volume at
// Config::workspace_mount filled from Config::workspace_lowers (tar upload, bottom layer first),
// a tmpfs /tmp, network mode "none" (loopback only), memory/pids/CPU limits, all capabilities but
// a few dropped, no-new-privileges, tini as PID 1, commands as uid:gid 1000:1000. reset() replaces
// the container; destroy() force-removes it with its volumes. upper_dir() and merged_view() are "".
// With Config::docker_image_workspace (SWE-bench's instance images): no volume, no /tmp tmpfs, a
// writable root filesystem, the image's environment, commands as root; the rest as above.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "sandbox/sandbox.h"

namespace swebox::sandbox {

// The image used when Config::docker_image is empty; scripts/make-docker-image.sh builds it.
constexpr const char* kDefaultDockerImage = "swebox-busybox:latest";

// Throws SandboxError saying what to do when no daemon answers or the image is missing.
std::unique_ptr<Sandbox> make_docker_sandbox(boost::asio::io_context& io, const Config& config);

// Whether a Docker daemon answers on /var/run/docker.sock (within a second).
bool docker_available();
// Whether a daemon answers and has `image` locally (never pulled).
bool docker_image_present(const std::string& image);

}  // namespace swebox::sandbox
