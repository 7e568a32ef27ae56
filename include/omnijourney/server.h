// An HTTP server over one engine (library omnijourney_server; `omnijourney serve`): a tracking API
// that Segment's SDKs send to unchanged, and the profile API. Every endpoint, its JSON and its
// errors: docs/server.md.
//
// Example:
//   omnijourney::v1::ServerConfig config;               // e.g. from
//   LoadServerConfig("serve.textproto") auto* key = config.add_keys(); key->set_tenant("acme");
//   key->set_hash(omnijourney::server::HashKey("wk_live_..."));
//   key->add_scopes(omnijourney::v1::ApiKey::SCOPE_WRITE);
//   auto server = omnijourney::server::Server::Start(engine.get(), config);
//   if (!server.ok()) ...                                // the port is taken, a bad key hash, ...
//   std::cout << "listening on " << (*server)->port() << "\n";
//   (*server)->Wait();                                  // until Stop() from another thread
#ifndef OMNIJOURNEY_SERVER_H_
#define OMNIJOURNEY_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "omnijourney/engine.h"
#include "omnijourney/v1/server.pb.h"

namespace omnijourney::server {

// "sha256:" and the lowercase hex SHA-256 of `key`: what ApiKey::hash holds.
std::string HashKey(std::string_view key);
// A new random key (32 random bytes, URL-safe base64, after `prefix`).
std::string NewKey(std::string_view prefix = "oj_");

// A configuration file (textproto, or JSON when its name ends in ".json"). InvalidArgument naming
// the file, line and field; NotFound when it cannot be read. Relative paths in it (store, journeys,
// TLS files) are taken relative to the file's directory.
absl::StatusOr<v1::ServerConfig> LoadServerConfig(const std::string& path);
// The configuration's own consistency: key hashes, scopes, tenants, limits. InvalidArgument naming
// the field ("keys[1].hash: expected sha256: and 64 hex digits").
absl::Status CheckServerConfig(const v1::ServerConfig& config);

// Where the server's log lines go: one JSON object per line (the access log, errors with their
// request id). The default writes them to stderr. Thread-safe; the sink is called from the
// server's threads, one line at a time.
using LogSink = std::function<void(std::string_view line)>;
void SetLogSink(LogSink sink);

class Server {
 public:
  // Listens on config.host:config.port and serves `engine`, which must outlive the server.
  // Returns once the socket listens (connections are handled on the server's threads).
  static absl::StatusOr<std::unique_ptr<Server>> Start(Engine* engine,
                                                       const v1::ServerConfig& config);
  virtual ~Server() = default;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The port listened on (the one picked when config.port was 0).
  virtual int port() const = 0;
  // Blocks until Stop().
  virtual void Wait() = 0;
  // Stops listening and waits for the requests being handled. Safe from any thread, and twice.
  virtual void Stop() = 0;

 protected:
  Server() = default;
};

}  // namespace omnijourney::server

#endif  // OMNIJOURNEY_SERVER_H_
