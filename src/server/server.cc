// Server: the HTTP(S) listener, its threads and the access log.
#include "omnijourney/server.h"

#include <sodium.h>
#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "server/service.h"

namespace omnijourney::server {
namespace {

class HttpServer final : public Server {
 public:
  HttpServer(Engine* engine, const v1::ServerConfig& config) : service_(engine, config) {}
  ~HttpServer() override { Stop(); }

  absl::Status Listen() {
    const v1::ServerConfig& config = service_.config();
    if (!config.tls_certificate().empty()) {
      http_ = std::make_unique<httplib::SSLServer>(config.tls_certificate().c_str(),
                                                   config.tls_private_key().c_str());
    } else {
      http_ = std::make_unique<httplib::Server>();
    }
    if (!http_->is_valid()) {
      return absl::InvalidArgumentError(
          "tls_certificate, tls_private_key: cannot be loaded (PEM files expected)");
    }
    // SO_REUSEADDR only: a restart binds at once, but a second server cannot share a port in use
    // (httplib's default also sets SO_REUSEPORT, which would split the traffic between them).
    http_->set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    const int threads = service_.limits().threads;
    http_->new_task_queue = [threads] {
      return new httplib::ThreadPool(static_cast<size_t>(threads));
    };
    http_->set_keep_alive_max_count(1000);
    http_->set_keep_alive_timeout(30);
    http_->set_read_timeout(30, 0);
    http_->set_write_timeout(30, 0);
    // The tracking routes read their bodies themselves, with their own limits; this is the bound
    // for the others (httplib answers 413 beyond it).
    http_->set_payload_max_length(
        std::max(service_.limits().max_body_bytes, service_.limits().max_batch_bytes));
    if (!config.has_access_log() || config.access_log()) {
      http_->set_logger(
          [](const httplib::Request& req, const httplib::Response& res) { AccessLog(req, res); });
    }
    http_->set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
          Service::SendError(res, {500, "internal", "internal error"},
                             res.get_header_value("X-Request-Id"));
        });
    http_->set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      const char* code = res.status == 404   ? "not_found"
                         : res.status == 413 ? "too_large"
                                             : "error";
      const char* message = res.status == 404   ? "no such endpoint"
                            : res.status == 413 ? "request body too large"
                                                : "the request could not be handled";
      Service::SendError(res, {res.status, code, message}, res.get_header_value("X-Request-Id"));
    });
    service_.Register(http_.get());
    const std::string host = config.host().empty() ? "127.0.0.1" : config.host();
    const int wanted = config.has_port() ? config.port() : 8787;
    if (wanted == 0) {
      port_ = http_->bind_to_any_port(host);
    } else {
      port_ = http_->bind_to_port(host, wanted) ? wanted : -1;
    }
    if (port_ <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", host, ":", wanted,
                                                 " (in use, or not an address here)"));
    }
    thread_ = std::thread([this] {
      http_->listen_after_bind();
      std::lock_guard<std::mutex> lock(mu_);
      stopped_ = true;
      cv_.notify_all();
    });
    // The socket listens already (connections wait in its backlog); the accept loop starts soon.
    for (int i = 0; i < 200 && !http_->is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stopped_; });
  }

  void Stop() override {
    std::lock_guard<std::mutex> stop(stop_mu_);
    service_.Shutdown();
    if (http_ != nullptr) http_->stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // One JSON line per request on stderr: time, request id, method, path, status, duration.
  static void AccessLog(const httplib::Request& req, const httplib::Response& res) {
    RequestLog& log = CurrentRequestLog();
    nlohmann::ordered_json line = {
        {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone())},
        {"request_id", res.get_header_value("X-Request-Id")},
        {"method", req.method},
        {"path", req.path},
        {"status", res.status},
        {"key", log.key},
        {"tenant", log.tenant},
        {"remote", req.remote_addr},
        {"bytes_in", std::max(log.bytes_in, req.body.size())},
        {"bytes_out", res.body.size()}};
    log = RequestLog();
    WriteLog(line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  }

  Service service_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mu_, stop_mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Engine* engine,
                                                      const v1::ServerConfig& config) {
  if (engine == nullptr) return absl::InvalidArgumentError("engine: null");
  if (absl::Status s = CheckServerConfig(config); !s.ok()) return s;
  if (sodium_init() < 0) return absl::InternalError("libsodium could not be initialised");
  auto server = std::make_unique<HttpServer>(engine, config);
  if (absl::Status s = server->Listen(); !s.ok()) return s;
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace omnijourney::server
