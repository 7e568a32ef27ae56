#include "engine/erasure.h"

#include <algorithm>
#include <utility>

#include "common/status_macros.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/struct.pb.h"

namespace omnijourney::internal {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string LowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 3986 percent-encoding; `plus_for_space`: the form encoding of query strings.
std::string PercentEncoded(std::string_view s, bool plus_for_space) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else if (c == ' ' && plus_for_space) {
      out.push_back('+');
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

bool ScrubString(const Scrubber& scrubber, std::string* s) {
  std::optional<std::string> scrubbed = scrubber.Scrub(*s);
  if (!scrubbed) return false;
  *s = *std::move(scrubbed);
  return true;
}

bool ScrubValue(const Scrubber& scrubber, google::protobuf::Value& v);

bool ScrubStruct(const Scrubber& scrubber, google::protobuf::Struct& s) {
  bool changed = false;
  google::protobuf::Struct out;
  for (auto& [key, value] : *s.mutable_fields()) {
    std::string k = key;
    changed |= ScrubString(scrubber, &k);
    google::protobuf::Value v = value;
    changed |= ScrubValue(scrubber, v);
    (*out.mutable_fields())[k] = std::move(v);
  }
  if (changed) s = std::move(out);
  return changed;
}

bool ScrubValue(const Scrubber& scrubber, google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue:
      return ScrubString(scrubber, v.mutable_string_value());
    case google::protobuf::Value::kStructValue:
      return ScrubStruct(scrubber, *v.mutable_struct_value());
    case google::protobuf::Value::kListValue: {
      bool changed = false;
      for (auto& item : *v.mutable_list_value()->mutable_values()) changed |= ScrubValue(scrubber, item);
      return changed;
    }
    default:
      return false;
  }
}

// Every string of `m` and its messages, but the fields `skip` names (of `m` itself).
bool ScrubMessage(const Scrubber& scrubber, Message& m, const std::vector<const FieldDescriptor*>& skip) {
  if (m.GetDescriptor() == google::protobuf::Struct::descriptor()) {
    return ScrubStruct(scrubber, static_cast<google::protobuf::Struct&>(m));
  }
  if (m.GetDescriptor() == google::protobuf::Value::descriptor()) {
    return ScrubValue(scrubber, static_cast<google::protobuf::Value&>(m));
  }
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  bool changed = false;
  for (const FieldDescriptor* f : fields) {
    if (std::find(skip.begin(), skip.end(), f) != skip.end()) continue;
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) {
          std::string s = r->GetRepeatedString(m, f, i);
          if (ScrubString(scrubber, &s)) {
            r->SetRepeatedString(&m, f, i, std::move(s));
            changed = true;
          }
        }
      } else {
        std::string s = r->GetString(m, f);
        if (ScrubString(scrubber, &s)) {
          r->SetString(&m, f, std::move(s));
          changed = true;
        }
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map()) {
      if (f->is_repeated()) {
        for (int i = 0; i < r->FieldSize(m, f); ++i) changed |= ScrubMessage(scrubber, *r->MutableRepeatedMessage(&m, f, i), {});
      } else {
        changed |= ScrubMessage(scrubber, *r->MutableMessage(&m, f), {});
      }
    }
  }
  return changed;
}

const std::vector<const FieldDescriptor*>& KeptEventFields() {
  static const auto* kept = [] {
    const auto* d = Event::descriptor();
    return new std::vector<const FieldDescriptor*>{d->FindFieldByName("tenant"), d->FindFieldByName("source"),
                                                   d->FindFieldByName("event_id"), d->FindFieldByName("identifiers"),
                                                   d->FindFieldByName("previous_id")};
  }();
  return *kept;
}

}  // namespace

void Scrubber::AddValue(std::string_view value) {
  if (value.empty()) return;
  for (const std::string& form : {std::string(value), PercentEncoded(value, false), PercentEncoded(value, true)}) {
    std::string lower = LowerCopy(form);
    if (std::find(forms_.begin(), forms_.end(), lower) == forms_.end()) forms_.push_back(std::move(lower));
  }
  // Longest first: a spelling that contains another is replaced whole.
  std::sort(forms_.begin(), forms_.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() > b.size() : a < b;
  });
}

std::optional<std::string> Scrubber::Scrub(std::string_view s) const {
  if (forms_.empty() || s.empty()) return std::nullopt;
  const std::string lower = LowerCopy(s);
  // Matches in the lower-case copy (same byte offsets), left to right, longest spelling first.
  std::vector<std::pair<size_t, size_t>> hits;  // [begin, end)
  for (const std::string& form : forms_) {
    if (form.size() < kMinSubstring) {
      if (lower == form) hits.emplace_back(0, s.size());
      continue;
    }
    for (size_t at = lower.find(form); at != std::string::npos; at = lower.find(form, at + 1)) {
      hits.emplace_back(at, at + form.size());
    }
  }
  if (hits.empty()) return std::nullopt;
  std::sort(hits.begin(), hits.end());
  std::string out;
  size_t done = 0;
  for (const auto& [begin, end] : hits) {
    if (end <= done) continue;  // Inside a replaced one.
    if (begin < done) {
      // Overlaps the previous one: extend it.
      done = end;
      continue;
    }
    out.append(s.substr(done, begin - done));
    out.append(kErasedText);
    done = end;
  }
  out.append(s.substr(done));
  return out;
}

bool ErasureScope::Erased(const IdentityGraph& graph, std::string_view type, std::string_view value) const {
  for (const IdentifierValue& e : identifiers) {
    if (e.type != type) continue;
    absl::StatusOr<std::string> k = graph.MatchKey(tenant, type, value, "");
    if (k.ok() && *k == e.value) return true;
  }
  return false;
}

bool ScrubEvent(const IdentityGraph& graph, const ErasureScope& scope, Event& event) {
  auto* ids = event.mutable_identifiers();
  const int before = ids->size();
  ids->erase(std::remove_if(ids->begin(), ids->end(),
                            [&](const v1::Identifier& id) { return scope.Erased(graph, id.type(), id.value()); }),
             ids->end());
  bool changed = ids->size() != before;
  if (event.has_previous_id() && scope.Erased(graph, event.previous_id().type(), event.previous_id().value())) {
    event.clear_previous_id();
    changed = true;
  }
  if (!scope.scrubber.empty()) changed |= ScrubMessage(scope.scrubber, event, KeptEventFields());
  return changed;
}

absl::Status CollectSpellings(const Log& log, const IdentityGraph& graph, ErasureScope& scope) {
  std::vector<std::string> raw;
  RETURN_IF_ERROR(log.Read(0, [&](LogPosition, const v1::LogRecord& r) -> absl::Status {
    if (!r.has_event() || r.event().tenant() != scope.tenant) return absl::OkStatus();
    for (const v1::Identifier& id : r.event().identifiers()) {
      if (scope.Erased(graph, id.type(), id.value())) raw.push_back(id.value());
    }
    const v1::Identifier& prev = r.event().previous_id();
    if (r.event().has_previous_id() && scope.Erased(graph, prev.type(), prev.value())) raw.push_back(prev.value());
    return absl::OkStatus();
  }));
  std::sort(raw.begin(), raw.end());
  raw.erase(std::unique(raw.begin(), raw.end()), raw.end());
  for (const std::string& v : raw) scope.scrubber.AddValue(v);
  return absl::OkStatus();
}

absl::Status PlanLogErasure(const Log& log, const IdentityGraph& graph, const ErasureScope& scope,
                            Log::Erasure* out, std::vector<DedupeKey>* erased) {
  auto split_tenant = [&](const v1::LoggedSplit& split) -> std::optional<std::string> {
    absl::StatusOr<ProfileId> p = graph.ResolveProfile(split.profile());
    if (!p.ok()) return std::nullopt;
    absl::StatusOr<std::string> t = graph.TenantOf(*p);
    if (!t.ok()) return std::nullopt;
    return *t;
  };
  return log.Read(0, [&](LogPosition pos, const v1::LogRecord& r) -> absl::Status {
    if (r.has_event()) {
      const Event& e = r.event();
      if (e.tenant() != scope.tenant) return absl::OkStatus();
      if (scope.profile != 0) {
        std::vector<IdentifierValue> ids;
        for (const v1::Identifier& id : e.identifiers()) ids.push_back({id.type(), id.value()});
        if (e.has_previous_id()) ids.push_back({e.previous_id().type(), e.previous_id().value()});
        absl::StatusOr<ProfileId> of = graph.ResolveIdentifiers(e.tenant(), ids);
        if (of.ok() && *of == scope.profile) {
          out->shred.push_back(pos);
          erased->push_back(DedupeWindow::KeyOf(e));
          return absl::OkStatus();
        }
      }
      v1::LogRecord copy = r;
      if (!ScrubEvent(graph, scope, *copy.mutable_event())) return absl::OkStatus();
      if (copy.event().identifiers().empty() && !copy.event().has_previous_id()) {
        out->shred.push_back(pos);  // Nothing identifies it any more.
        erased->push_back(DedupeWindow::KeyOf(e));
      } else {
        out->replace.emplace_back(pos, std::move(copy));
      }
    } else if (r.has_unlink()) {
      if (r.unlink().tenant() == scope.tenant && scope.Erased(graph, r.unlink().type(), r.unlink().value())) {
        out->shred.push_back(pos);
      }
    } else if (r.has_split()) {
      if (split_tenant(r.split()) != scope.tenant) return absl::OkStatus();
      v1::LogRecord copy = r;
      auto* part = copy.mutable_split()->mutable_part();
      const int before = part->size();
      part->erase(std::remove_if(part->begin(), part->end(),
                                 [&](const v1::Identifier& id) { return scope.Erased(graph, id.type(), id.value()); }),
                  part->end());
      if (part->size() == before) return absl::OkStatus();
      if (part->empty()) {
        out->shred.push_back(pos);
      } else {
        out->replace.emplace_back(pos, std::move(copy));
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace omnijourney::internal
