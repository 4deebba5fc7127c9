#include "sandbox/docker_api.h"

#include <cstdio>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

namespace swebox::sandbox::docker_api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using Socket = asio::local::stream_protocol::socket;

// One connection to the daemon with its own io_context, so that every blocking step can be
// bounded by a deadline (run_one_until) without touching the caller's io_context.
class Connection {
 public:
  Connection(const std::string& path, Deadline deadline) : sock_(io_) {
    error_code ec = wait(deadline, [&](auto handler) {
      sock_.async_connect(asio::local::stream_protocol::endpoint(path),
                          [handler](error_code e) mutable { handler(e, 0); });
    });
    if (ec) throw DockerError(0, "cannot connect to the Docker daemon at " + path + ": " + ec.message() +
                                     " (start one with scripts/start-dockerd.sh)");
  }

  // Starts an asynchronous step through `initiate(handler)` and runs it to completion or to the
  // deadline; a step still running at the deadline is cancelled and reported as timed_out.
  template <class Initiate>
  error_code wait(Deadline deadline, Initiate&& initiate, size_t* transferred = nullptr) {
    error_code ec = asio::error::would_block;
    size_t n = 0;
    initiate([&ec, &n](error_code e, size_t k) { ec = e, n = k; });
    io_.restart();
    while (ec == asio::error::would_block && io_.run_one_until(deadline)) {
    }
    if (ec == asio::error::would_block) {
      error_code ignored;
      sock_.cancel(ignored);
      io_.restart();
      while (ec == asio::error::would_block) io_.run_one();
      if (ec == asio::error::operation_aborted) ec = asio::error::timed_out;
    }
    if (transferred) *transferred = n;
    return ec;
  }

  void write_all(std::string_view bytes, Deadline deadline, const std::string& what) {
    error_code ec = wait(deadline, [&](auto handler) {
      asio::async_write(sock_, asio::buffer(bytes.data(), bytes.size()), handler);
    });
    if (ec) throw DockerError(0, what + ": writing to the Docker daemon failed: " + ec.message());
  }

  Response read_response(Deadline deadline, bool head, const std::string& what) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    if (head) parser.skip(true);
    error_code ec = wait(deadline, [&](auto handler) { http::async_read(sock_, buf_, parser, handler); });
    if (ec) throw DockerError(0, what + ": no answer from the Docker daemon: " + ec.message());
    Response r;
    auto& msg = parser.get();
    r.status = msg.result_int();
    r.body = std::move(msg.body());
    if (auto it = msg.find("X-Docker-Container-Path-Stat"); it != msg.end()) r.path_stat = std::string(it->value());
    return r;
  }

  asio::io_context io_;
  Socket sock_;
  beast::flat_buffer buf_;
};

std::string request_head(const std::string& method, const std::string& target, const std::string& content_type) {
  std::string h = method + " " + target + " HTTP/1.1\r\nHost: docker\r\n";
  if (!content_type.empty()) h += "Content-Type: " + content_type + "\r\n";
  return h;
}

class HijackedStream : public AttachedStream {
 public:
  explicit HijackedStream(std::unique_ptr<Connection> c) : c_(std::move(c)) {}

  Read read_frame(int& stream, std::string& data, Deadline deadline) override {
    if (!fill(8, deadline)) return eof_ ? Read::end : Read::timeout;
    auto* h = static_cast<const unsigned char*>(c_->buf_.data().data());
    size_t len = (size_t(h[4]) << 24) | (size_t(h[5]) << 16) | (size_t(h[6]) << 8) | size_t(h[7]);
    if (!fill(8 + len, deadline)) return eof_ ? Read::end : Read::timeout;
    h = static_cast<const unsigned char*>(c_->buf_.data().data());  // fill may have moved the buffer
    stream = h[0];
    data.assign(reinterpret_cast<const char*>(h) + 8, len);
    c_->buf_.consume(8 + len);
    return Read::frame;
  }

  void write(std::string_view bytes, Deadline deadline) override {
    c_->write_all(bytes, deadline, "exec stdin");
  }

  void close_stdin() override {
    error_code ignored;
    c_->sock_.shutdown(Socket::shutdown_send, ignored);
  }

 private:
  // Reads until the buffer holds n bytes; false at end of stream or the deadline.
  bool fill(size_t n, Deadline deadline) {
    while (c_->buf_.size() < n) {
      if (eof_) return false;
      size_t got = 0;
      auto space = c_->buf_.prepare(std::max<size_t>(65536, n - c_->buf_.size()));
      error_code ec = c_->wait(deadline, [&](auto handler) { c_->sock_.async_read_some(space, handler); }, &got);
      c_->buf_.commit(got);
      if (ec == asio::error::timed_out) return false;
      if (ec) eof_ = true;  // end of stream, or the connection broke: either way no more output
    }
    return true;
  }

  std::unique_ptr<Connection> c_;
  bool eof_ = false;
};

std::string error_words(const Response& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"];
  return r.body.empty() ? "HTTP " + std::to_string(r.status) : r.body;
}

}  // namespace

std::string base64_encode(std::string_view in) {
  static const char* chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(chars[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(chars[(v >> 18) & 63]);
    out.push_back(chars[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? chars[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string base64_decode(std::string_view in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto p = chars.find(c);
    if (p == std::string::npos) continue;  // '=' padding, whitespace
    acc = (acc << 6) | uint32_t(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(char(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

Response Client::request(const std::string& method, const std::string& target, const std::string& body,
                         const std::string& content_type, double timeout_s) {
  Deadline deadline = after(timeout_s);
  Connection c(socket_, deadline);
  std::string msg = request_head(method, target, body.empty() ? "" : content_type);
  msg += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string what = method + " " + target;
  c.write_all(msg, deadline, what);
  return c.read_response(deadline, method == "HEAD", what);
}

Response Client::request_streamed(const std::string& method, const std::string& target,
                                  const std::function<void(const BodySink&)>& produce,
                                  const std::string& content_type, double timeout_s) {
  Deadline deadline = after(timeout_s);
  Connection c(socket_, deadline);
  std::string what = method + " " + target;
  c.write_all(request_head(method, target, content_type) + "Transfer-Encoding: chunked\r\n\r\n", deadline, what);
  // Small pieces (tar headers) are gathered into chunks of up to 1 MiB.
  std::string pending;
  auto flush = [&] {
    if (pending.empty()) return;
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", pending.size());
    c.write_all(std::string(size) + pending + "\r\n", deadline, what);
    pending.clear();
  };
  try {
    produce([&](std::string_view bytes) {
      pending.append(bytes.data(), bytes.size());
      if (pending.size() >= (1u << 20)) flush();
    });
    flush();
    c.write_all("0\r\n\r\n", deadline, what);
  } catch (const DockerError&) {
    // The daemon may have answered (e.g. 404) and closed before reading everything: its answer says why.
    return c.read_response(deadline, false, what);
  }
  return c.read_response(deadline, false, what);
}

nlohmann::json Client::call(const std::string& method, const std::string& target, const nlohmann::json& body,
                            const std::string& what, double timeout_s) {
  Response r = request(method, target, body.is_null() ? "" : body.dump(), "application/json", timeout_s);
  if (r.status >= 300) throw DockerError(r.status, what + ": " + error_words(r));
  if (r.body.empty()) return nullptr;
  return nlohmann::json::parse(r.body, nullptr, false);
}

bool Client::ping(double timeout_s) {
  try {
    return request("GET", "/_ping", "", "", timeout_s).status == 200;
  } catch (const DockerError&) {
    return false;
  }
}

bool Client::image_exists(const std::string& image) {
  return request("GET", "/images/" + url_encode(image) + "/json").status == 200;
}

std::string Client::create_container(const nlohmann::json& spec, const std::string& name) {
  std::string target = "/containers/create";
  if (!name.empty()) target += "?name=" + url_encode(name);
  return call("POST", target, spec, "creating a container from image " + spec.value("Image", std::string("?")))["Id"];
}

void Client::start_container(const std::string& id) {
  Response r = request("POST", "/containers/" + id + "/start");
  if (r.status >= 300 && r.status != 304) throw DockerError(r.status, "starting container " + id + ": " + error_words(r));
}

void Client::kill_container(const std::string& id, double timeout_s) {
  Response r = request("POST", "/containers/" + id + "/kill?signal=SIGKILL");
  // 409: not running (already stopped), which is what we want.
  if (r.status >= 300 && r.status != 409) throw DockerError(r.status, "killing container " + id + ": " + error_words(r));
  r = request("POST", "/containers/" + id + "/wait?condition=not-running", "", "application/json", timeout_s);
  if (r.status >= 300) throw DockerError(r.status, "waiting for container " + id + " to stop: " + error_words(r));
}

void Client::remove_container(const std::string& id) {
  Response r = request("DELETE", "/containers/" + id + "?force=1&v=1");
  if (r.status >= 300 && r.status != 404) throw DockerError(r.status, "removing container " + id + ": " + error_words(r));
}

std::string Client::create_exec(const std::string& container, const nlohmann::json& spec) {
  return call("POST", "/containers/" + container + "/exec", spec, "creating an exec in container " + container)["Id"];
}

std::unique_ptr<AttachedStream> Client::start_exec_attached(const std::string& exec_id, Deadline deadline) {
  auto c = std::make_unique<Connection>(socket_, deadline);
  std::string body = R"({"Detach":false,"Tty":false})";
  std::string what = "starting exec " + exec_id;
  c->write_all(request_head("POST", "/exec/" + exec_id + "/start", "application/json") +
                   "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: " + std::to_string(body.size()) +
                   "\r\n\r\n" + body,
               deadline, what);
  http::response_parser<http::empty_body> parser;
  error_code ec = c->wait(deadline, [&](auto handler) { http::async_read_header(c->sock_, c->buf_, parser, handler); });
  if (ec) throw DockerError(0, what + ": no answer from the Docker daemon: " + ec.message());
  unsigned status = parser.get().result_int();
  if (status != 101 && status != 200) {
    // An error answer carries a JSON body; read what is there.
    http::response_parser<http::string_body> full(std::move(parser));
    c->wait(deadline, [&](auto handler) { http::async_read(c->sock_, c->buf_, full, handler); });
    Response r{status, full.get().body(), ""};
    throw DockerError(status, what + ": " + error_words(r));
  }
  return std::make_unique<HijackedStream>(std::move(c));
}

nlohmann::json Client::inspect_exec(const std::string& exec_id) {
  return call("GET", "/exec/" + exec_id + "/json", nullptr, "inspecting exec " + exec_id);
}

Response Client::get_archive(const std::string& container, const std::string& path, double timeout_s) {
  return request("GET", "/containers/" + container + "/archive?path=" + url_encode(path), "", "", timeout_s);
}

nlohmann::json Client::stat_path(const std::string& container, const std::string& path) {
  Response r = request("HEAD", "/containers/" + container + "/archive?path=" + url_encode(path), "", "");
  if (r.status == 404) return nullptr;
  if (r.status >= 300) throw DockerError(r.status, "stat " + path + " in container " + container + ": HTTP " + std::to_string(r.status));
  return nlohmann::json::parse(base64_decode(r.path_stat), nullptr, false);
}

Response Client::put_archive(const std::string& container, const std::string& dir,
                             const std::function<void(const BodySink&)>& produce, double timeout_s) {
  return request_streamed("PUT", "/containers/" + container + "/archive?noOverwriteDirNonDir=true&path=" + url_encode(dir),
                          produce, "application/x-tar", timeout_s);
}

}  // namespace swebox::sandbox::docker_api
