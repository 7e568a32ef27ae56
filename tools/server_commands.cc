// The tool's server commands: serve (docs/server.md) and key.
#include <atomic>
#include <csignal>
#include <iostream>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli_common.h"
#include "omnijourney/config.h"
#include "omnijourney/engine.h"
#include "omnijourney/server.h"

namespace omnijourney::cli {
namespace {

std::atomic<server::Server*> g_server{nullptr};

void OnSignal(int) {
  if (server::Server* s = g_server.load()) s->Stop();
}

int Serve(const std::vector<std::string>& raw, std::string_view usage) {
  Args args;
  if (!ParseArgs("serve", raw, {"--config", "--port"}, {}, &args, usage)) return 2;
  if (args.Get("--config").empty()) {
    std::cerr << "serve: --config FILE is required (omnijourney.v1.ServerConfig, docs/server.md)\n"
              << usage;
    return 2;
  }
  absl::StatusOr<v1::ServerConfig> config = server::LoadServerConfig(args.Get("--config"));
  if (!config.ok()) {
    std::cerr << "serve: " << config.status().message() << "\n";
    return 2;
  }
  if (!args.Get("--port").empty()) {
    int port = 0;
    if (!absl::SimpleAtoi(args.Get("--port"), &port) || port < 0 || port > 65535) {
      std::cerr << "serve: --port: '" << args.Get("--port") << "' is not a port\n";
      return 2;
    }
    config->set_port(port);
  }
  EngineOptions options;
  options.storage.path = config->store();
  if (absl::Status s = ApplyConfig(config->engine(), &options); !s.ok()) {
    std::cerr << "serve: engine: " << s.message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(options);
  if (!engine.ok()) {
    std::cerr << "serve: cannot open the engine: " << engine.status() << "\n";
    return 1;
  }
  for (const std::string& path : config->journeys()) {
    absl::StatusOr<std::vector<JourneyDefinition>> journeys = ReadJourneys(path);
    if (!journeys.ok()) {
      std::cerr << "serve: " << path << ": " << journeys.status().message() << "\n";
      return 2;
    }
    for (const JourneyDefinition& j : *journeys) {
      absl::Status s = (*engine)->AddJourney(j);
      if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) {  // Already in the store: fine.
        std::cerr << "serve: " << path << ": journey " << j.name() << ": " << s.message() << "\n";
        return 2;
      }
    }
  }
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(engine->get(), *config);
  if (!server.ok()) {
    std::cerr << "serve: " << server.status().message() << "\n";
    return 1;
  }
  g_server = server->get();
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::set<std::string> tenants;
  for (const v1::ApiKey& key : config->keys())
    tenants.insert(key.tenant().empty() ? "(default)" : key.tenant());
  const std::string scheme = config->tls_certificate().empty() ? "http" : "https";
  std::cout << "omnijourney serve: listening on " << scheme << "://"
            << (config->host().empty() ? "127.0.0.1" : config->host()) << ":" << (*server)->port()
            << " (" << config->keys_size() << " keys; tenants " << absl::StrJoin(tenants, ", ")
            << "; " << (config->store().empty() ? "in memory" : "store " + config->store()) << ")"
            << std::endl;
  (*server)->Wait();
  g_server = nullptr;
  server->reset();
  if (!config->store().empty()) {
    if (absl::Status s = (*engine)->Checkpoint(); !s.ok())
      std::cerr << "serve: snapshot at exit: " << s << "\n";
  }
  std::cout << "omnijourney serve: stopped" << std::endl;
  return 0;
}

// A new key and the configuration entry that holds its hash.
int Key(const std::vector<std::string>& raw, std::string_view usage) {
  Args args;
  if (!ParseArgs("key", raw, {"--tenant", "--scopes", "--name"}, {}, &args, usage)) return 2;
  std::vector<std::string> scopes;
  for (absl::string_view s :
       absl::StrSplit(args.Get("--scopes", "write"), ',', absl::SkipEmpty())) {
    v1::ApiKey::Scope scope;
    const std::string name = absl::StrCat("SCOPE_", absl::AsciiStrToUpper(s));
    if (!v1::ApiKey::Scope_Parse(name, &scope) || scope == v1::ApiKey::SCOPE_UNSPECIFIED) {
      std::cerr << "key: --scopes: '" << s << "' is not one of write, read, operator, admin\n";
      return 2;
    }
    scopes.push_back(name);
  }
  const std::string key = server::NewKey();
  std::cout << "key: " << key << "\n"
            << "# the configuration holds only its hash:\n"
            << "keys {\n"
            << "  tenant: \"" << absl::CEscape(args.Get("--tenant")) << "\"\n";
  if (!args.Get("--name").empty())
    std::cout << "  name: \"" << absl::CEscape(args.Get("--name")) << "\"\n";
  std::cout << "  hash: \"" << server::HashKey(key) << "\"\n";
  for (const std::string& s : scopes) std::cout << "  scopes: " << s << "\n";
  std::cout << "}\n";
  return 0;
}

}  // namespace

int ServerCommand(const std::string& command, const std::vector<std::string>& args,
                  std::string_view usage) {
  if (command == "serve") return Serve(args, usage);
  if (command == "key") return Key(args, usage);
  return -1;
}

}  // namespace omnijourney::cli
