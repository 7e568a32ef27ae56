// The omnijourney command-line tool. Errors go to stderr; the exit status is 0 on success, 1 when
// the input had errors or a lookup failed, 2 for a usage error.
//
//   omnijourney replay   [SOURCE] [--progress|--quiet]
//       Ingests the events (and journeys) of SOURCE and prints a summary: events accepted,
//       duplicates, rejected, profiles, journey instances, actions. With --store DIR the result is
//       durable and later commands can query it.
//   omnijourney context  [SOURCE] (--id TYPE:VALUE | --profile ID) [--tenant T] [--json]
//   omnijourney explain  [SOURCE] (--id TYPE:VALUE | --profile ID) [--tenant T]
//   omnijourney report   [SOURCE] --out FILE.html [--title TEXT] [--from DAY] [--to DAY] [--time-zone TZ]
//                        [--teams FILE]
//       A self-contained HTML report (docs/analytics.md): KPIs over time and by channel, team, agent
//       and journey; feedback and root causes; journey maps; channel paths; attribution. With
//       --store alone, from the store and the journeys it holds.
//   omnijourney backtest --journeys NEW [--store DIR | --events FILE] [--from DAY] [--to DAY]
//       A dry run of NEW over the history beside the live versions (docs/analytics.md): funnels,
//       time to goal, actions per day and channel with caps and quiet hours; nothing is handed out.
//   omnijourney export   [SOURCE] --out DIRECTORY [the options of report]
//       CSV tables for BI tools: events, journey_steps, contacts, feedback (docs/analytics.md).
//   omnijourney validate FILE...
//       Checks journey definition files (text format JourneySet or JourneyDefinition, or JSON).
//   omnijourney generate [--customers N] [--seed S] [--tenant T]
//       Writes a synthetic population's events as omnijourney JSON Lines to stdout.
//   omnijourney convert  [--format F] [--source NAME] [--tenant T] FILE|-
//       Reads events, validates them and writes omnijourney JSON Lines to stdout.
//   omnijourney version
//
// SOURCE: --events FILE|- (with --format jsonl|segment|segment-lines, --source, --tenant for
// Segment input), --journeys FILE (repeatable), --store DIR (a RocksDB directory: opened and
// recovered, then the events are added to it). Without --store everything is in memory.
// --tenant T is also the tenant of --id and --profile lookups (a profile of another tenant is not
// found) and of report (without it, report covers every tenant and names them).
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "cli_common.h"
#include "omnijourney/analysis.h"
#include "omnijourney/analytics.h"
#include "omnijourney/backtest.h"
#include "omnijourney/context.h"
#include "omnijourney/config.h"
#include "omnijourney/engine.h"
#include "omnijourney/event_json.h"
#include "omnijourney/journey.h"
#include "omnijourney/report.h"
#include "omnijourney/segment.h"
#include "omnijourney/synth.h"
#include "omnijourney/validate.h"
#include "omnijourney/version.h"

namespace {

namespace analytics = omnijourney::analytics;
using omnijourney::cli::Args;
using omnijourney::cli::ReadEvents;
using omnijourney::cli::ReadInput;
using omnijourney::cli::ReadJourneys;

constexpr char kUsage[] =
    "usage: omnijourney replay   [SOURCE] [--progress|--quiet]\n"
    "       omnijourney context  [SOURCE] (--id TYPE:VALUE | --profile ID) [--tenant T] [--json]\n"
    "       omnijourney explain  [SOURCE] (--id TYPE:VALUE | --profile ID) [--tenant T]\n"
    "       omnijourney report   [SOURCE] --out FILE.html [--title TEXT] [--tenant T] [--from DAY] [--to DAY]\n"
    "                            [--time-zone TZ] [--teams FILE]\n"
    "       omnijourney backtest --journeys NEW [--store DIR | --events FILE] [--tenant T] [--from DAY] [--to DAY]\n"
    "                            [--time-zone TZ] [--actions-csv FILE]\n"
    "       omnijourney export   [SOURCE] --out DIRECTORY [--tenant T] [--from DAY] [--to DAY] [--time-zone TZ]\n"
    "                            [--teams FILE]\n"
    "       omnijourney validate FILE...\n"
    "       omnijourney generate [--customers N] [--seed S] [--tenant T]\n"
    "       omnijourney convert  [--format segment|segment-lines|jsonl] [--source NAME] [--tenant T] [--config FILE] FILE|-\n"
    "       omnijourney version\n"
#ifdef OMNIJOURNEY_WITH_SERVER
    "       omnijourney serve    --config SERVER [--port N]\n"
    "       omnijourney key      [--tenant T] [--scopes write,read,operator,admin] [--name NAME]\n"
    "SERVER: a server configuration (omnijourney.v1.ServerConfig textproto or .json, docs/server.md)\n"
#endif
#ifdef OMNIJOURNEY_WITH_NATS
    "       omnijourney cluster create-streams|status|digest --config CLUSTER [--tenant T]\n"
    "       omnijourney worker   --config CLUSTER --name NAME --data DIR\n"
    "       omnijourney publish  --config CLUSTER [--events FILE|-] [--format F] [--source NAME] [--tenant T]\n"
    "                            [--journeys FILE]... [--unlink TYPE:VALUE]... [--erase TYPE:VALUE]...\n"
    "                            [--tick TIME|now] [--tick-every N] [--batch N] [--acks FILE] [--quiet]\n"
    "       omnijourney context  --cluster CLUSTER --id TYPE:VALUE [--tenant T]\n"
    "CLUSTER: a cluster configuration (omnijourney.v1.ClusterConfig textproto, docs/scale-out.md)\n"
#endif
    "SOURCE: [--events FILE|-] [--format jsonl|segment|segment-lines] [--journeys FILE]... [--store DIR]\n"
    "        [--phone-region CC] [--config FILE]\n"
    "--phone-region CC: ISO 3166 region of phone numbers written without a country code (default: none,\n"
    "            such numbers are not used)\n"
    "--config FILE: engine options from a textproto or .json file (omnijourney.v1.EngineConfig: identity\n"
    "            rules, phone regions per tenant, blocked values, validation limits, time mode)\n"
    "--tenant T: the tenant of converted events and of --id/--profile lookups (default \"\"); with report,\n"
    "            only that tenant (without it: every tenant, named in the report)\n";

bool ParseArgs(const std::string& command, const std::vector<std::string>& raw,
               const std::vector<std::string>& with_value, const std::vector<std::string>& flags, Args* out) {
  return omnijourney::cli::ParseArgs(command, raw, with_value, flags, out, kUsage);
}

// Prints "replayed N events (R/s)" while a long replay runs.
class Progress {
 public:
  explicit Progress(bool enabled) : enabled_(enabled), tty_(isatty(2) != 0), start_(absl::Now()), last_(start_) {}
  void Update(size_t done, size_t total) {
    if (!enabled_) return;
    const absl::Time now = absl::Now();
    if (now - last_ < (tty_ ? absl::Seconds(1) : absl::Seconds(5))) return;
    last_ = now;
    printed_ = true;
    std::cerr << absl::StrFormat("%sreplayed %d of %d events (%.0f events/s)%s", tty_ ? "\r" : "", done, total,
                                 static_cast<double>(done) / absl::ToDoubleSeconds(now - start_), tty_ ? "" : "\n");
  }
  void Done() {
    if (printed_ && tty_) std::cerr << "\n";
  }
  double Seconds() const { return absl::ToDoubleSeconds(absl::Now() - start_); }

 private:
  bool enabled_, tty_, printed_ = false;
  absl::Time start_, last_;
};

struct Loaded {
  std::unique_ptr<omnijourney::Engine> engine;
  omnijourney::EngineOptions options;  // As the engine was opened.
  std::vector<omnijourney::JourneyDefinition> journeys;
  analytics::ContactMonitor monitor;
  bool monitored = false;
  int64_t read_errors = 0, accepted = 0, duplicates = 0, rejected = 0, actions = 0, erased = 0;
  double seconds = 0;
};

const std::vector<std::string> kSourceOptions = {"--events", "--format", "--journeys",     "--store",
                                                 "--source", "--tenant", "--phone-region", "--config"};

// Opens the engine of SOURCE and replays its events. `monitor`: observe every contact (one
// event at a time) for the KPI "history available at contact".
// Hands out the due actions and acknowledges them (the CLI only counts them), so a store replayed
// into again does not hand them out a second time.
int64_t TakeAndAck(omnijourney::Engine& engine) {
  std::vector<std::string> ids;
  for (const omnijourney::JourneyAction& a : engine.TakeActions()) ids.push_back(a.id);
  if (absl::Status s = engine.AckActions(ids); !s.ok()) std::cerr << "omnijourney: acknowledging actions: " << s << "\n";
  return static_cast<int64_t>(ids.size());
}

bool Load(const Args& args, bool monitor, bool progress, Loaded* out) {
  omnijourney::EngineOptions options;
  options.time_mode = omnijourney::EngineOptions::TimeMode::kEventTime;
  options.storage.path = args.Get("--store");
  if (!args.Get("--config").empty()) {
    if (absl::Status s = omnijourney::ApplyConfigFile(args.Get("--config"), &options); !s.ok()) {
      std::cerr << s.message() << "\n";
      return false;
    }
  }
  if (!args.Get("--phone-region").empty()) options.identity.default_phone_region = args.Get("--phone-region");
  auto engine = omnijourney::Engine::Open(options);
  if (!engine.ok()) {
    std::cerr << "cannot open the engine: " << engine.status() << "\n";
    return false;
  }
  out->engine = *std::move(engine);
  out->options = options;
  for (const std::string& note : out->engine->Stats().snapshot_notes) std::cerr << "omnijourney: snapshot " << note << "\n";
  for (const std::string& path : args.All("--journeys")) {
    auto journeys = ReadJourneys(path);
    if (!journeys.ok()) {
      std::cerr << path << ": " << journeys.status().message() << "\n";
      return false;
    }
    for (auto& j : *journeys) {
      absl::Status s = out->engine->AddJourney(j);
      if (!s.ok() && s.code() != absl::StatusCode::kAlreadyExists) {  // Already in the store: fine.
        std::cerr << path << ": journey " << j.name() << ": " << s.message() << "\n";
        return false;
      }
      out->journeys.push_back(std::move(j));
    }
  }
  const std::string events = args.Get("--events");
  if (events.empty()) return true;
  omnijourney::SegmentOptions segment;
  segment.source = args.Get("--source", segment.source);
  segment.tenant = args.Get("--tenant", segment.tenant);
  omnijourney::ParsedEvents parsed;
  if (!ReadEvents(events, args.Get("--format", "jsonl"), segment, &parsed)) return false;
  for (const auto& err : parsed.errors) std::cerr << events << ": " << err.status.message() << "\n";
  for (const auto& w : parsed.warnings) std::cerr << events << ": warning: " << w.message << "\n";
  if (!parsed.warning_counts.empty()) {
    std::cerr << events << ": " << parsed.warnings.size() << " warnings:";
    for (const auto& [kind, n] : parsed.warning_counts) std::cerr << " " << kind << " " << n;
    std::cerr << "\n";
  }
  out->read_errors = static_cast<int64_t>(parsed.errors.size());
  Progress bar(progress);
  const auto count = [&](const omnijourney::Event& e, const absl::StatusOr<omnijourney::IngestResult>& r) {
    if (!r.ok()) {
      ++out->rejected;
      std::cerr << events << ": event " << e.source() << "/" << e.event_id() << ": " << r.status().message() << "\n";
    } else if (r->duplicate) {
      ++out->duplicates;
    } else {
      ++out->accepted;
    }
  };
  const size_t n = parsed.events.size();
  if (monitor) {
    out->monitored = true;
    for (size_t i = 0; i < n; ++i) {
      auto r = out->engine->Ingest(parsed.events[i]);
      count(parsed.events[i], r);
      if (r.ok()) out->monitor.Observe(*out->engine, parsed.events[i], *r);
      if (i % 1024 == 0) bar.Update(i, n);
    }
  } else {
    std::vector<const omnijourney::Event*> batch;
    for (size_t i = 0; i < n; i += 1000) {
      batch.clear();
      for (size_t k = i; k < std::min(n, i + 1000); ++k) batch.push_back(&parsed.events[k]);
      auto results = out->engine->IngestBatch(batch);
      for (size_t k = 0; k < results.size(); ++k) count(*batch[k], results[k]);
      out->actions += TakeAndAck(*out->engine);
      bar.Update(i + batch.size(), n);
    }
  }
  out->actions += TakeAndAck(*out->engine);
  // Erasure requests (delete calls) after the events: the person's events in the file go too.
  for (const auto& request : parsed.erasures) {
    for (const auto& [type, value] : request.identifiers) {
      auto erased = out->engine->EraseIdentifier({request.tenant, type, value});
      if (erased.ok()) {
        ++out->erased;
      } else if (erased.status().code() != absl::StatusCode::kNotFound) {
        std::cerr << events << ": line " << request.line << ": erasing " << type << ": " << erased.status().message() << "\n";
        ++out->rejected;
      }
    }
  }
  bar.Done();
  out->seconds = bar.Seconds();
  // A snapshot of what was added, so the next command on the store starts from it instead of
  // replaying the whole log.
  if (!options.storage.path.empty() && n > 0) {
    if (absl::Status s = out->engine->Checkpoint(); !s.ok()) {
      std::cerr << "omnijourney: snapshot of " << options.storage.path << " failed (the log has everything): " << s << "\n";
    }
  }
  return true;
}

int Replay(const std::vector<std::string>& raw) {
  Args args;
  std::vector<std::string> flags = {"--progress", "--quiet"};
  if (!ParseArgs("replay", raw, kSourceOptions, flags, &args)) return 2;
  if (!args.positional.empty()) {
    std::cerr << "replay: unexpected argument " << args.positional[0] << " (use --events FILE)\n" << kUsage;
    return 2;
  }
  if (args.Get("--events").empty() && args.Get("--store").empty()) {
    std::cerr << "replay: nothing to replay: give --events FILE and/or --store DIR\n" << kUsage;
    return 2;
  }
  Loaded loaded;
  if (!Load(args, false, !args.Has("--quiet"), &loaded)) return 1;
  // Nothing added, but records replayed from the log (no snapshot, or one this build cannot use):
  // a snapshot of them, so that the next command starts from it.
  if (!args.Get("--store").empty() && loaded.accepted == 0 && loaded.engine->Stats().recovered > 0) {
    if (absl::Status st = loaded.engine->Checkpoint(); !st.ok()) {
      std::cerr << "omnijourney: snapshot of " << args.Get("--store") << " failed (the log has everything): " << st << "\n";
    }
  }
  const omnijourney::EngineStats s = loaded.engine->Stats();
  int64_t instances = 0, running = 0;
  (void)loaded.engine->ForEachProfile([&](const omnijourney::ProfileSnapshot& p) {
    for (const auto& j : p.journeys) {
      ++instances;
      if (!j.ended) ++running;
    }
  });
  std::cout << absl::StrFormat(
      "%d events accepted, %d duplicates, %d rejected, %d unreadable records in %.2f s (%.0f events/s)\n"
      "%d profiles, %d identifiers, %d journey instances (%d running), %d actions handed out\n",
      loaded.accepted, loaded.duplicates, loaded.rejected, loaded.read_errors, loaded.seconds,
      loaded.seconds > 0 ? static_cast<double>(loaded.accepted + loaded.duplicates) / loaded.seconds : 0.0,
      s.profiles, s.identity.identifiers, instances, running, loaded.actions);
  if (s.recovered > 0 || s.snapshot_position > 0) {
    std::cout << s.recovered << " records recovered from " << args.Get("--store");
    if (s.snapshot_position > 0) std::cout << " after its snapshot at record " << s.snapshot_position;
    std::cout << "\n";
  }
  if (loaded.erased > 0) std::cout << loaded.erased << " identifiers erased by delete calls\n";
  for (const std::string& note : s.snapshot_notes) std::cout << "snapshot " << note << "\n";
  if (!s.limit_hits.empty()) {
    std::cout << "limits hit:";
    for (const auto& [option, count] : s.limit_hits) std::cout << " " << option << " " << count;
    std::cout << "\n";
  }
  return loaded.rejected + loaded.read_errors == 0 ? 0 : 1;
}

// The profile of --id TYPE:VALUE or --profile ID.
absl::StatusOr<omnijourney::ProfileId> Lookup(const omnijourney::Engine& engine, const Args& args) {
  const std::string id = args.Get("--id");
  const std::string profile = args.Get("--profile");
  if (id.empty() == profile.empty()) return absl::InvalidArgumentError("give one of --id TYPE:VALUE and --profile ID");
  if (!profile.empty()) return omnijourney::ParseProfileId(profile);
  const size_t colon = id.find(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("--id: expected TYPE:VALUE, got '", id, "'"));
  }
  auto ctx = engine.Context({args.Get("--tenant"), id.substr(0, colon), id.substr(colon + 1)});
  if (!ctx.ok()) return ctx.status();
  return ctx->profile;
}

int ContextOrExplain(const std::string& command, const std::vector<std::string>& raw) {
  Args args;
  std::vector<std::string> with_value = kSourceOptions;
  with_value.insert(with_value.end(), {"--id", "--profile"});
  if (!ParseArgs(command, raw, with_value, {"--json"}, &args)) return 2;
  if (!args.positional.empty()) {
    std::cerr << command << ": unexpected argument " << args.positional[0] << "\n" << kUsage;
    return 2;
  }
  Loaded loaded;
  if (!Load(args, false, false, &loaded)) return 1;
  auto profile = Lookup(*loaded.engine, args);
  if (!profile.ok()) {
    std::cerr << command << ": " << profile.status().message() << "\n";
    return 1;
  }
  if (command == "context") {
    auto ctx = loaded.engine->Context(args.Get("--tenant"), *profile);
    if (!ctx.ok()) {
      std::cerr << "context: " << ctx.status().message() << "\n";
      return 1;
    }
    std::cout << (args.Has("--json") ? omnijourney::ContextToJson(*ctx) + "\n" : omnijourney::RenderContext(*ctx));
    return 0;
  }
  auto explanation = loaded.engine->Explain(args.Get("--tenant"), *profile);
  if (!explanation.ok()) {
    std::cerr << "explain: " << explanation.status().message() << "\n";
    return 1;
  }
  std::cout << explanation->ToString();
  return 0;
}

// --from/--to: a day (YYYY-MM-DD, in the report's time zone) or an RFC 3339 time.
bool ParseWhen(const std::string& text, absl::TimeZone zone, absl::Time* out) {
  std::string error;
  if (absl::ParseTime("%Y-%m-%d", text, zone, out, &error)) return true;
  return absl::ParseTime(absl::RFC3339_full, text, out, &error);
}

// --teams FILE: lines "agent_id,team" (a header line "agent_id,team" is skipped).
bool ReadTeams(const std::string& path, std::map<std::string, std::string>* teams) {
  std::string text;
  if (!ReadInput(path, &text)) {
    std::cerr << "report: cannot read " << path << "\n";
    return false;
  }
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line == "agent_id,team") continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ',');
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      std::cerr << path << ":" << line_number << ": expected agent_id,team\n";
      return false;
    }
    (*teams)[std::string(absl::StripAsciiWhitespace(parts[0]))] = std::string(absl::StripAsciiWhitespace(parts[1]));
  }
  return true;
}

// The journeys to analyse: the newest version of each journey the engine holds.
std::vector<omnijourney::JourneyDefinition> NewestJourneys(const omnijourney::Engine& engine) {
  std::map<std::string, omnijourney::JourneyDefinition> newest;
  for (auto& j : engine.Journeys()) {
    auto it = newest.find(j.name());
    if (it == newest.end() || it->second.version() < j.version()) newest[j.name()] = j;
  }
  std::vector<omnijourney::JourneyDefinition> out;
  for (auto& [name, j] : newest) out.push_back(std::move(j));
  return out;
}

const std::vector<std::string> kAnalysisOptions = {"--out", "--from", "--to", "--time-zone", "--teams"};

// --from, --to, --time-zone and --teams of report and export; false (with a message) when one is bad.
bool AnalysisArgs(const char* command, const Args& args, analytics::AnalysisOptions* options) {
  if (args.values.count("--time-zone") > 0 && !absl::LoadTimeZone(args.Get("--time-zone"), &options->time_zone)) {
    std::cerr << command << ": --time-zone: unknown time zone '" << args.Get("--time-zone") << "'\n";
    return false;
  }
  for (const auto& [flag, when] : {std::pair{"--from", &options->from}, std::pair{"--to", &options->to}}) {
    if (args.values.count(flag) > 0 && !ParseWhen(args.Get(flag), options->time_zone, when)) {
      std::cerr << command << ": " << flag << ": expected YYYY-MM-DD or an RFC 3339 time, got '" << args.Get(flag)
                << "'\n";
      return false;
    }
  }
  if (args.values.count("--tenant") > 0) options->tenant = args.Get("--tenant");
  return args.Get("--teams").empty() || ReadTeams(args.Get("--teams"), &options->teams);
}

// The start report and export share: their arguments (`extra` takes a value too; --out names
// `out_what`), the period and teams, the source loaded with contacts monitored, and the newest
// version of each journey it holds. Returns 0, or the exit code to end with.
int StartAnalysis(const char* command, const std::vector<std::string>& raw, const std::vector<std::string>& extra,
                  const char* out_what, Args* args, analytics::AnalysisOptions* options, Loaded* loaded) {
  std::vector<std::string> with_value = kSourceOptions;
  with_value.insert(with_value.end(), kAnalysisOptions.begin(), kAnalysisOptions.end());
  with_value.insert(with_value.end(), extra.begin(), extra.end());
  if (!ParseArgs(command, raw, with_value, {"--progress"}, args)) return 2;
  if (args->Get("--out").empty() || !args->positional.empty()) {
    std::cerr << command << ": give --out " << out_what << "\n" << kUsage;
    return 2;
  }
  if (!AnalysisArgs(command, *args, options)) return 2;
  if (!Load(*args, true, args->Has("--progress"), loaded)) return 1;
  options->journeys = NewestJourneys(*loaded->engine);
  return 0;
}

// The contacts monitored while the events were loaded, if there were any (none from a store).
const analytics::ContactMonitor* MonitorOf(const Loaded& loaded) {
  return loaded.monitor.contacts() > 0 ? &loaded.monitor : nullptr;
}

int ExportCommand(const std::vector<std::string>& raw) {
  Args args;
  analytics::AnalysisOptions options;
  Loaded loaded;
  if (const int code = StartAnalysis("export", raw, {}, "DIRECTORY", &args, &options, &loaded); code != 0) return code;
  analytics::ExportedTables written;
  auto analysis = analytics::ExportCsv(*loaded.engine, options, args.Get("--out"), &written, MonitorOf(loaded));
  if (!analysis.ok()) {
    std::cerr << "export: " << analysis.status().message() << "\n";
    return 1;
  }
  std::cout << absl::StrFormat("wrote %s: %d events, %d journey steps, %d contacts, %d feedback answers\n",
                               args.Get("--out"), written.events, written.steps, written.contacts, written.feedback);
  // The headline KPIs, for a check against the tables.
  const analytics::KpiRow* total = analysis->Row(analytics::Period::kTotal, analytics::Dimension::kAll);
  const auto csat = total->feedback.find("csat");
  std::cout << absl::StrFormat("kpis: contacts=%d repeat_7d=%d first_contacts=%d resolved_first=%d csat_answers=%d csat_good=%d\n",
                               total->contacts, total->repeat_long, total->first_contacts, total->resolved_first,
                               csat == total->feedback.end() ? 0 : csat->second.responses,
                               csat == total->feedback.end() ? 0 : csat->second.good);
  return loaded.rejected + loaded.read_errors == 0 ? 0 : 1;
}

// backtest --journeys NEW [--store DIR | --events FILE]: the candidate journeys are not added to
// the source's engine; they run in a dry run beside its live versions.
int BacktestCommand(const std::vector<std::string>& raw) {
  Args args;
  std::vector<std::string> with_value = kSourceOptions;
  with_value.insert(with_value.end(), {"--from", "--to", "--time-zone", "--actions-csv"});
  if (!ParseArgs("backtest", raw, with_value, {"--progress"}, &args)) return 2;
  const std::vector<std::string> candidates = args.All("--journeys");
  if (candidates.empty() || !args.positional.empty()) {
    std::cerr << "backtest: give --journeys FILE (the definitions to try) and --store DIR\n" << kUsage;
    return 2;
  }
  if (!args.Get("--store").empty() && !args.Get("--events").empty()) {
    std::cerr << "backtest: reads the history of --store or of --events, not both (it adds nothing to a store)\n";
    return 2;
  }
  analytics::BacktestOptions options;
  analytics::AnalysisOptions period;
  if (!AnalysisArgs("backtest", args, &period)) return 2;
  options.from = period.from;
  options.to = period.to;
  options.tenant = period.tenant;
  options.time_zone = period.time_zone;
  std::vector<omnijourney::JourneyDefinition> candidate;
  for (const std::string& path : candidates) {
    auto journeys = ReadJourneys(path);
    if (!journeys.ok()) {
      std::cerr << path << ": " << journeys.status().message() << "\n";
      return 2;
    }
    candidate.insert(candidate.end(), journeys->begin(), journeys->end());
  }
  Args source = args;
  source.values.erase("--journeys");
  Loaded loaded;
  if (!Load(source, false, args.Has("--progress"), &loaded)) return 1;
  options.engine = loaded.options;
  auto backtest = analytics::RunBacktest(*loaded.engine, candidate, options);
  if (!backtest.ok()) {
    std::cerr << "backtest: " << backtest.status().message() << "\n";
    return 1;
  }
  std::cout << backtest->ToString();
  if (const std::string csv = args.Get("--actions-csv"); !csv.empty()) {
    std::ofstream out(csv);
    out << "run,day,journey,channel,delivered,deferred,suppressed\n";
    for (const auto* run : {&backtest->candidate, &backtest->live}) {
      for (const auto& a : run->actions) {
        out << run->label << ',' << absl::StrFormat("%04d-%02d-%02d", a.day.year(), a.day.month(), a.day.day()) << ','
            << a.journey << ',' << a.channel << ',' << a.delivered << ',' << a.deferred << ',' << a.suppressed << '\n';
      }
    }
    out.close();
    if (!out) {
      std::cerr << "backtest: cannot write " << csv << "\n";
      return 1;
    }
  }
  return loaded.rejected + loaded.read_errors == 0 ? 0 : 1;
}

int ReportCommand(const std::vector<std::string>& raw) {
  Args args;
  analytics::AnalysisOptions options;
  Loaded loaded;
  if (const int code = StartAnalysis("report", raw, {"--title"}, "FILE.html", &args, &options, &loaded); code != 0) {
    return code;
  }
  const std::string out_path = args.Get("--out");
  auto analysis = analytics::Analyze(*loaded.engine, options, MonitorOf(loaded));
  if (!analysis.ok()) {
    std::cerr << "report: " << analysis.status().message() << "\n";
    return 1;
  }
  analytics::Report report;
  report.title = args.Get("--title", "omnijourney report");
  report.generated = absl::Now();
  const auto& tenants = analysis->tenant_profiles;
  std::vector<std::string> parts;
  for (const auto& [t, n] : tenants) parts.push_back(absl::StrFormat("%s (%d profiles)", t.empty() ? "(default)" : t, n));
  if (options.tenant) {
    report.scope = absl::StrCat("tenant ", options.tenant->empty() ? "(default)" : *options.tenant);
    report.notes.push_back(absl::StrCat("Tenant ", options.tenant->empty() ? "(default)" : *options.tenant, " only."));
  } else {
    report.scope = tenants.size() == 1 && tenants.begin()->first.empty() ? "the default tenant" : "all tenants";
    if (tenants.size() > 1 || (tenants.size() == 1 && !tenants.begin()->first.empty())) {
      report.notes.push_back(absl::StrCat("Tenants covered: ", absl::StrJoin(parts, ", "),
                                          "; --tenant T reports one of them."));
    }
  }
  const std::string store = args.Get("--store");
  report.notes.push_back(absl::StrFormat(
      "%d profiles and %d retained timeline entries%s; %d events added by this run (%d duplicates, %d rejected). "
      "Journeys: %s.",
      analysis->profiles, analysis->entries, store.empty() ? "" : absl::StrCat(" in the store ", store),
      loaded.accepted, loaded.duplicates, loaded.rejected,
      options.journeys.empty() ? std::string("none")
                               : absl::StrJoin(options.journeys, ", ", [](std::string* out, const auto& j) {
                                   absl::StrAppend(out, j.name(), " v", j.version());
                                 })));
  if (!loaded.monitored || loaded.monitor.contacts() == 0) {
    report.notes.push_back("Context at contact is measured while events are ingested: not available for events "
                           "stored before this run (History in profile is).");
  }
  report.analysis = *std::move(analysis);
  std::ofstream out(out_path);
  out << analytics::RenderHtmlReport(report);
  out.close();
  if (!out) {
    std::cerr << "report: cannot write " << out_path << "\n";
    return 1;
  }
  std::cout << "wrote " << out_path << " (" << report.analysis.profiles << " profiles, "
            << report.analysis.funnels.size() << " journeys)\n";
  return loaded.rejected + loaded.read_errors == 0 ? 0 : 1;
}

int Validate(const std::vector<std::string>& raw) {
  if (raw.empty()) {
    std::cerr << "validate: no files\n" << kUsage;
    return 2;
  }
  int bad = 0;
  for (const std::string& path : raw) {
    auto journeys = ReadJourneys(path);
    if (!journeys.ok()) {
      std::cerr << path << ": " << journeys.status().message() << "\n";
      ++bad;
      continue;
    }
    std::cout << path << ": ok:";
    for (const auto& j : *journeys) std::cout << " " << j.name() << " v" << j.version() << " (" << j.states_size() << " states)";
    std::cout << "\n";
  }
  return bad == 0 ? 0 : 1;
}

int GenerateCommand(const std::vector<std::string>& raw) {
  Args args;
  if (!ParseArgs("generate", raw, {"--customers", "--seed", "--tenant"}, {}, &args)) return 2;
  omnijourney::synth::PopulationOptions options;
  if (!absl::SimpleAtoi(args.Get("--customers", "1000"), &options.customers) ||
      !absl::SimpleAtoi(args.Get("--seed", "1"), &options.seed)) {
    std::cerr << "generate: --customers and --seed take whole numbers\n";
    return 2;
  }
  options.tenant = args.Get("--tenant");
  auto population = omnijourney::synth::Population::Create(options);
  if (!population.ok()) {
    std::cerr << "generate: " << population.status().message() << "\n";
    return 2;
  }
  omnijourney::synth::GeneratedEvent g;
  while ((*population)->Next(&g)) std::cout << omnijourney::EventToJson(g.event) << "\n";
  return 0;
}

int Convert(const std::vector<std::string>& raw) {
  Args args;
  if (!ParseArgs("convert", raw, {"--format", "--source", "--tenant", "--config"}, {}, &args)) return 2;
  omnijourney::EngineOptions config;  // Its validation limits.
  if (!args.Get("--config").empty()) {
    if (absl::Status s = omnijourney::ApplyConfigFile(args.Get("--config"), &config); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 2;
    }
  }
  if (args.positional.size() != 1) {
    std::cerr << (args.positional.empty() ? "convert: no input file\n" : "convert: more than one input file\n")
              << kUsage;
    return 2;
  }
  const std::string& path = args.positional[0];
  omnijourney::SegmentOptions segment;
  segment.source = args.Get("--source", segment.source);
  segment.tenant = args.Get("--tenant", segment.tenant);
  omnijourney::ParsedEvents parsed;
  if (!ReadEvents(path, args.Get("--format", "jsonl"), segment, &parsed)) return 1;
  int bad = static_cast<int>(parsed.errors.size());
  for (const auto& err : parsed.errors) std::cerr << path << ": " << err.status.message() << "\n";
  for (const auto& w : parsed.warnings) std::cerr << path << ": warning: " << w.message << "\n";
  if (!parsed.warning_counts.empty()) {
    std::cerr << path << ": " << parsed.warnings.size() << " warnings:";
    for (const auto& [kind, n] : parsed.warning_counts) std::cerr << " " << kind << " " << n;
    std::cerr << "\n";
  }
  const absl::Time now = absl::Now();
  for (const auto& event : parsed.events) {
    if (absl::Status s = omnijourney::ValidateEvent(event, config.validation, now); !s.ok()) {
      std::cerr << path << ": event " << event.source() << "/" << event.event_id() << ": " << s.message() << "\n";
      ++bad;
      continue;
    }
    std::cout << omnijourney::EventToJson(event) << "\n";
  }
  return bad == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "help" || args[0] == "--help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
#ifdef OMNIJOURNEY_WITH_NATS
  if (const int status = omnijourney::cli::ClusterCommand(command, args, kUsage); status >= 0) return status;
#endif
#ifdef OMNIJOURNEY_WITH_SERVER
  if (const int status = omnijourney::cli::ServerCommand(command, args, kUsage); status >= 0) return status;
#endif
  if (command == "replay") return Replay(args);
  if (command == "context" || command == "explain") return ContextOrExplain(command, args);
  if (command == "report") return ReportCommand(args);
  if (command == "export") return ExportCommand(args);
  if (command == "backtest") return BacktestCommand(args);
  if (command == "validate") return Validate(args);
  if (command == "generate") return GenerateCommand(args);
  if (command == "convert") return Convert(args);
  if (command == "version") {
    std::cout << "omnijourney " << OMNIJOURNEY_VERSION_STRING << "\n";
    return 0;
  }
  std::cerr << "unknown command '" << command << "'\n" << kUsage;
  return 2;
}
