// A client of the Docker Engine API: HTTP/1.1 over the daemon's unix socket (Boost.Beast), one
// connection per call, every call bounded by a deadline. Covers what the Docker backend needs:
// containers (create, start, kill, remove), execs (create, attached start, inspect), archives
// (GET/HEAD/PUT /containers/{id}/archive) and images (inspect, import).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::sandbox::docker_api {

using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

// A command's deadline; timeout_s <= 0 means none (as in the native backend).
inline Deadline after(double seconds) {
  if (seconds <= 0) return Clock::now() + std::chrono::hours(24 * 365);
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

constexpr const char* kDefaultSocket = "/var/run/docker.sock";

// The daemon could not be reached, did not answer in time, or refused a request. `status` is the
// HTTP status (0 when there was no answer); the message carries the daemon's own words.
struct DockerError : std::runtime_error {
  DockerError(unsigned status, const std::string& what) : std::runtime_error(what), status(status) {}
  unsigned status;
};

struct Response {
  unsigned status = 0;
  std::string body;
  std::string path_stat;  // X-Docker-Container-Path-Stat header (archive endpoints), base64 JSON
};

// Receives the bytes of a streamed request body, in order.
using BodySink = std::function<void(std::string_view)>;

// The hijacked connection of an attached exec: stdin goes in raw, stdout and stderr come out in
// Docker's multiplexed frames (8-byte header: stream, 0, 0, 0, big-endian length).
class AttachedStream {
 public:
  virtual ~AttachedStream() = default;
  enum class Read { frame, end, timeout };
  // Reads the next frame: stream is 1 (stdout) or 2 (stderr), data its payload.
  virtual Read read_frame(int& stream, std::string& data, Deadline deadline) = 0;
  virtual void write(std::string_view bytes, Deadline deadline) = 0;
  // Half-closes the connection: the process sees end of file on stdin.
  virtual void close_stdin() = 0;
};

class Client {
 public:
  explicit Client(std::string socket_path = kDefaultSocket) : socket_(std::move(socket_path)) {}

  // Raw request; never throws for an HTTP error status, only when there is no answer.
  Response request(const std::string& method, const std::string& target, const std::string& body = "",
                   const std::string& content_type = "application/json", double timeout_s = 60);
  // Request whose body is produced on the fly (sent chunked).
  Response request_streamed(const std::string& method, const std::string& target,
                            const std::function<void(const BodySink&)>& produce,
                            const std::string& content_type, double timeout_s);
  // JSON request that throws DockerError (naming `what`) on a status >= 300.
  nlohmann::json call(const std::string& method, const std::string& target, const nlohmann::json& body,
                      const std::string& what, double timeout_s = 60);

  // Whether the daemon answers GET /_ping within timeout_s.
  bool ping(double timeout_s = 2);
  bool image_exists(const std::string& image);

  std::string create_container(const nlohmann::json& spec, const std::string& name = "");
  void start_container(const std::string& id);
  // Sends SIGKILL to every process of the container and waits until it is stopped (its volumes
  // and file system stay); a stopped container is not an error.
  void kill_container(const std::string& id, double timeout_s = 60);
  // Force-removes the container and its anonymous volumes; a missing container is not an error.
  void remove_container(const std::string& id);

  std::string create_exec(const std::string& container, const nlohmann::json& spec);
  std::unique_ptr<AttachedStream> start_exec_attached(const std::string& exec_id, Deadline deadline);
  // {"Running": bool, "ExitCode": int, "Pid": int, ...}
  nlohmann::json inspect_exec(const std::string& exec_id);

  // GET archive: the tar of `path` (a file, or a directory with its contents). 404 = missing.
  Response get_archive(const std::string& container, const std::string& path, double timeout_s = 60);
  // HEAD archive: status and the path's stat (decoded JSON {name,size,mode,mtime,linkTarget}),
  // null when the path is missing.
  nlohmann::json stat_path(const std::string& container, const std::string& path);
  // PUT archive: extracts a tar into directory `dir`; the tar is produced by `produce`.
  Response put_archive(const std::string& container, const std::string& dir,
                       const std::function<void(const BodySink&)>& produce, double timeout_s = 600);

  const std::string& socket_path() const { return socket_; }

 private:
  std::string socket_;
};

std::string base64_encode(std::string_view bytes);
std::string base64_decode(std::string_view text);  // skips padding and whitespace

// Percent-encodes a query-string value.
std::string url_encode(std::string_view s);

}  // namespace swebox::sandbox::docker_api
