// A scripted OpenAI-compatible HTTP server on 127.0.0.1 for the policy tests: each connection gets
// the next scripted reply (status, body, delay), and every request body is kept for inspection.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace swebox::test {

struct ScriptedReply {
  unsigned status = 200;
  std::string body;
  int delay_ms = 0;
};

inline std::string chat_reply(const std::string& content, int prompt_tokens = 10, int completion_tokens = 5) {
  nlohmann::json j = {
      {"id", "x"},
      {"object", "chat.completion"},
      {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}}, {"finish_reason", "stop"},
                    {"logprobs", {{"content", {{{"token", "token_id:7"}, {"logprob", -0.5}}, {{"token", "token_id:8"}, {"logprob", -1.0}}}}}}}}},
      {"usage", {{"prompt_tokens", prompt_tokens}, {"completion_tokens", completion_tokens}, {"total_tokens", prompt_tokens + completion_tokens}}}};
  return j.dump();
}

// Answers a request from its target and JSON body (an empty object when it has none).
using ReplyHandler = std::function<ScriptedReply(const std::string& target, const nlohmann::json& body)>;

class StubOpenAIServer {
 public:
  explicit StubOpenAIServer(std::vector<ScriptedReply> script)
      : script_(script.begin(), script.end()), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  // Every reply from `handler` instead of a script (a server whose answers depend on the request).
  explicit StubOpenAIServer(ReplyHandler handler)
      : handler_(std::move(handler)), acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] { serve(); });
  }
  ~StubOpenAIServer() {
    stop_ = true;
    boost::system::error_code ec;
    // Wake the blocking accept with a connection of our own.
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket s(io);
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
    thread_.join();
    for (std::thread& t : workers_) t.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::vector<nlohmann::json> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::vector<std::string> targets() {
    std::lock_guard<std::mutex> l(mu_);
    return targets_;
  }

 private:
  void serve() {
    while (!stop_) {
      boost::asio::ip::tcp::socket sock(io_);
      boost::system::error_code ec;
      acceptor_.accept(sock, ec);
      if (ec || stop_) return;
      // One thread per connection: a slow scripted reply must not hold up the retry behind it.
      workers_.emplace_back([this, sock = std::move(sock)]() mutable { answer(sock); });
    }
  }

  void answer(boost::asio::ip::tcp::socket& sock) {
    namespace http = boost::beast::http;
    boost::system::error_code ec;
    {
      boost::beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(sock, buf, req, ec);
      if (ec) return;
      ScriptedReply r;
      {
        std::lock_guard<std::mutex> l(mu_);
        requests_.push_back(nlohmann::json::parse(req.body(), nullptr, false));
        targets_.push_back(std::string(req.target()));
        if (handler_) {
          nlohmann::json body = requests_.back().is_discarded() ? nlohmann::json::object() : requests_.back();
          r = handler_(std::string(req.target()), body);
        } else if (!script_.empty()) {
          r = script_.front();
          script_.pop_front();
        } else {
          r = {500, "script exhausted", 0};
        }
      }
      if (r.delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(r.delay_ms));
      http::response<http::string_body> res{static_cast<http::status>(r.status), 11};
      res.set(http::field::content_type, "application/json");
      res.body() = r.body;
      res.prepare_payload();
      http::write(sock, res, ec);
    }
  }

  std::deque<ScriptedReply> script_;
  ReplyHandler handler_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<nlohmann::json> requests_;
  std::vector<std::string> targets_;
};

}  // namespace swebox::test
