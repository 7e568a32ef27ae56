// Engine configuration from a file (textproto or JSON, schema omnijourney.v1.EngineConfig in
// proto/omnijourney/v1/config.proto): identity rules, phone regions (per engine and per tenant),
// blocked values, validation limits and the time mode, without C++.
//
// Example (us.textproto):
//   identity {
//     default_phone_region: "US"
//     tenant_phone_regions { key: "acme-cz" value: "CZ" }
//     rules { key: "phone" value { max_per_profile: 3 blocked_values: "+1 800 555 0100" } }
//   }
//   validation { max_event_bytes: 65536 }
//
//   omnijourney::EngineOptions options;
//   if (absl::Status s = omnijourney::ApplyConfigFile("us.textproto", &options); !s.ok()) ...
//
// A field not in the file keeps what `options` had. Errors name the file, line and field.
#ifndef OMNIJOURNEY_CONFIG_H_
#define OMNIJOURNEY_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "omnijourney/engine_options.h"
#include "omnijourney/v1/config.pb.h"

namespace omnijourney {

enum class ConfigFormat { kTextproto, kJson };

// Parses `text` (`name` is used in errors) and applies it to `options`. InvalidArgument naming the
// line and field for a malformed or unknown field, a bad duration or enum; nothing is applied then.
absl::Status ApplyConfigText(std::string_view text, ConfigFormat format, std::string_view name, EngineOptions* options);
// The same for a file: JSON when its name ends in ".json", textproto otherwise. NotFound when it
// cannot be read.
absl::Status ApplyConfigFile(const std::string& path, EngineOptions* options);
// Applies a parsed configuration.
absl::Status ApplyConfig(const v1::EngineConfig& config, EngineOptions* options);

}  // namespace omnijourney

#endif  // OMNIJOURNEY_CONFIG_H_
