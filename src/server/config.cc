// The server's configuration file and its checks.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/server.h"

namespace omnijourney::server {
namespace {

// The first error of a textproto parse, with its line and column (1-based).
class FirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty())
      first_ = absl::StrCat("line ", line + 1, ", column ", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

bool IsHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string Relative(const std::filesystem::path& base, const std::string& path) {
  if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (base / path).lexically_normal().string();
}

}  // namespace

absl::StatusOr<v1::ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("config ", path, ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  v1::ServerConfig config;
  if (absl::EndsWith(path, ".json")) {
    google::protobuf::util::JsonParseOptions json;
    const auto status = google::protobuf::util::JsonStringToMessage(text.str(), &config, json);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not an omnijourney.v1.ServerConfig: ",
                       std::string(status.message().data(), status.message().size())));
    }
  } else {
    google::protobuf::TextFormat::Parser parser;
    FirstError errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(text.str(), &config))
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", errors.first()));
  }
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  config.set_store(Relative(base, config.store()));
  for (std::string& journeys : *config.mutable_journeys()) journeys = Relative(base, journeys);
  config.set_tls_certificate(Relative(base, config.tls_certificate()));
  config.set_tls_private_key(Relative(base, config.tls_private_key()));
  if (absl::Status s = CheckServerConfig(config); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  return config;
}

absl::Status CheckServerConfig(const v1::ServerConfig& config) {
  if (config.has_port() && (config.port() < 0 || config.port() > 65535)) {
    return absl::InvalidArgumentError(
        absl::StrCat("port: ", config.port(), " is not a port (0-65535)"));
  }
  std::set<std::string> hashes;
  for (int i = 0; i < config.keys_size(); ++i) {
    const v1::ApiKey& key = config.keys(i);
    const std::string at = absl::StrCat("keys[", i, "]");
    const std::string& hash = key.hash();
    if (!absl::StartsWith(hash, "sha256:") || hash.size() != 7 + 64 || !IsHex(hash.substr(7))) {
      return absl::InvalidArgumentError(absl::StrCat(
          at,
          ".hash: expected \"sha256:\" and 64 lowercase hex digits (omnijourney key makes one)"));
    }
    if (!hashes.insert(hash).second) {
      return absl::InvalidArgumentError(absl::StrCat(at, ".hash: the same key as an earlier one"));
    }
    if (key.scopes_size() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ".scopes: none (write, read, operator or admin)"));
    }
    for (int scope : key.scopes()) {
      if (scope == v1::ApiKey::SCOPE_UNSPECIFIED || !v1::ApiKey::Scope_IsValid(scope)) {
        return absl::InvalidArgumentError(absl::StrCat(at, ".scopes: ", scope, " is not a scope"));
      }
    }
  }
  const v1::ServerLimits& l = config.limits();
  if (l.has_max_body_bytes() && l.max_body_bytes() == 0) {
    return absl::InvalidArgumentError("limits.max_body_bytes: must be positive");
  }
  if (l.has_max_message_bytes() && l.max_message_bytes() == 0) {
    return absl::InvalidArgumentError("limits.max_message_bytes: must be positive");
  }
  if (l.has_max_batch_bytes() && l.max_batch_bytes() == 0) {
    return absl::InvalidArgumentError("limits.max_batch_bytes: must be positive");
  }
  if (l.has_requests_per_second() && !(l.requests_per_second() >= 0)) {
    return absl::InvalidArgumentError(
        "limits.requests_per_second: must be 0 (no limit) or positive");
  }
  if (l.has_burst() && !(l.burst() >= 1))
    return absl::InvalidArgumentError("limits.burst: must be at least 1");
  if (l.has_max_concurrent_requests() && l.max_concurrent_requests() < 1) {
    return absl::InvalidArgumentError("limits.max_concurrent_requests: must be at least 1");
  }
  if (l.has_threads() && (l.threads() < 1 || l.threads() > 1024)) {
    return absl::InvalidArgumentError("limits.threads: must be 1-1024");
  }
  if (config.has_action_lease_seconds() && config.action_lease_seconds() < 1) {
    return absl::InvalidArgumentError("action_lease_seconds: must be at least 1");
  }
  if (config.tls_certificate().empty() != config.tls_private_key().empty()) {
    return absl::InvalidArgumentError("tls_certificate, tls_private_key: give both or neither");
  }
  return absl::OkStatus();
}

}  // namespace omnijourney::server
