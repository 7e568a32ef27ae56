#include "timeline/timeline.h"

#include <algorithm>
#include <deque>
#include <cmath>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/json.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "google/protobuf/util/json_util.h"
#include "omnijourney/v1/store.pb.h"

namespace omnijourney {

std::string_view TimelineEntry::Property(std::string_view key) const {
  for (const auto& [k, v] : properties) {
    if (k == key) return v;
  }
  return {};
}

namespace internal {
namespace {

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

std::string FormatMoney(const v1::Money& m) {
  // units + nanos/1e9 with two decimals (rounded half away from zero), then the currency.
  const bool negative = m.units() < 0 || m.nanos() < 0;
  const int64_t units = std::abs(m.units());
  const int64_t cents = (std::abs(static_cast<int64_t>(m.nanos())) + 5'000'000) / 10'000'000;
  return absl::StrFormat("%s%d.%02d %s", negative ? "-" : "", units + cents / 100, cents % 100, m.currency());
}

}  // namespace

std::string DisplayValue(const google::protobuf::Value& value) {
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue: return value.string_value();
    case google::protobuf::Value::kBoolValue: return value.bool_value() ? "true" : "false";
    case google::protobuf::Value::kNullValue: return "null";
    case google::protobuf::Value::kNumberValue: {
      const double d = value.number_value();
      if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 1e15) {
        return absl::StrCat(static_cast<int64_t>(d));
      }
      // The shortest text that reads back as the same number, whatever the host's locale.
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), d);
      if (ec != std::errc()) return absl::StrCat(d);
      return std::string(buf, end);
    }
    default: {
      std::string out;
      if (!google::protobuf::util::MessageToJsonString(value, &out).ok()) return "";
      return out;
    }
  }
}

std::string StoredTrait(TraitValue::Kind kind, std::string_view text) {
  char letter;
  switch (kind) {
    case TraitValue::Kind::kString: return std::string(text);
    case TraitValue::Kind::kNumber: letter = 'n'; break;
    case TraitValue::Kind::kBoolean: letter = 'b'; break;
    case TraitValue::Kind::kArray: letter = 'a'; break;
    default: letter = 'o'; break;
  }
  std::string out = {kTypedTrait, letter};
  out.append(text.data(), text.size());
  return out;
}

std::string StoredTrait(const google::protobuf::Value& value) {
  TraitValue::Kind kind;
  switch (value.kind_case()) {
    case google::protobuf::Value::kStringValue: return value.string_value();
    case google::protobuf::Value::kNullValue: return std::string(kClearedTrait);
    case google::protobuf::Value::kNumberValue: kind = TraitValue::Kind::kNumber; break;
    case google::protobuf::Value::kBoolValue: kind = TraitValue::Kind::kBoolean; break;
    case google::protobuf::Value::kListValue: kind = TraitValue::Kind::kArray; break;
    default: kind = TraitValue::Kind::kObject; break;
  }
  return StoredTrait(kind, DisplayValue(value));
}

std::pair<TraitValue::Kind, std::string_view> ReadStoredTrait(std::string_view stored) {
  if (stored.size() < 2 || stored[0] != kTypedTrait) return {TraitValue::Kind::kString, stored};
  TraitValue::Kind kind;
  switch (stored[1]) {
    case 'n': kind = TraitValue::Kind::kNumber; break;
    case 'b': kind = TraitValue::Kind::kBoolean; break;
    case 'a': kind = TraitValue::Kind::kArray; break;
    case 'o': kind = TraitValue::Kind::kObject; break;
    default: return {TraitValue::Kind::kString, stored};
  }
  return {kind, stored.substr(2)};
}

namespace {

constexpr size_t kSections = size_t{StoredEntry::kTextFields} + size_t{StoredEntry::kPairFields};
constexpr size_t kHeaderBytes = kSections * sizeof(uint32_t);

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void Store32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }

void Append32(std::string* out, uint32_t v) {
  char b[sizeof v];
  Store32(b, v);
  out->append(b, sizeof v);
}

// [begin, end) of section `i` of a block.
std::pair<uint32_t, uint32_t> Section(const char* block, size_t i) {
  const uint32_t begin = i == 0 ? static_cast<uint32_t>(kHeaderBytes) : Load32(block + (i - 1) * sizeof(uint32_t));
  return {begin, Load32(block + i * sizeof(uint32_t))};
}

}  // namespace

PairList::value_type PairList::iterator::operator*() const {
  const uint32_t a = Load32(p_);
  const char* second = p_ + sizeof(uint32_t) + a;
  const uint32_t b = Load32(second);
  return {std::string_view(p_ + sizeof(uint32_t), a), std::string_view(second + sizeof(uint32_t), b)};
}

PairList::iterator& PairList::iterator::operator++() {
  const char* second = p_ + sizeof(uint32_t) + Load32(p_);
  p_ = second + sizeof(uint32_t) + Load32(second);
  return *this;
}

std::optional<std::string_view> PairList::Find(std::string_view key) const {
  for (const auto& [k, v] : *this) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> PairList::ToVector() const {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(count_);
  for (const auto& [k, v] : *this) out.emplace_back(k, v);
  return out;
}

StoredEntry& StoredEntry::operator=(const StoredEntry& other) {
  if (this == &other) return *this;
  time_ = other.time_;
  kind_ = other.kind_;
  channel_ = other.channel_;
  direction_ = other.direction_;
  if (other.block_ == nullptr) {
    block_.reset();
  } else {
    const size_t n = other.BlockSize();
    block_ = std::make_unique_for_overwrite<char[]>(n);
    std::memcpy(block_.get(), other.block_.get(), n);
  }
  return *this;
}

void StoredEntry::Save(SerialWriter& w) const {
  w.Time(time_);
  w.Varint(static_cast<uint64_t>(kind_));
  w.Varint(static_cast<uint64_t>(channel_));
  w.Varint(static_cast<uint64_t>(direction_));
  w.Bytes(std::string_view(block_.get(), BlockSize()));
}

namespace {

// A block as EntryPacker builds it: section ends in order within the block, the last one its size,
// and every pair list's pairs within its section.
bool WellFormedBlock(const char* b, size_t n) {
  if (n < kHeaderBytes || Load32(b + (kSections - 1) * sizeof(uint32_t)) != n) return false;
  for (size_t i = 0; i < kSections; ++i) {
    const auto [begin, end] = Section(b, i);
    if (begin > end || end > n) return false;
    if (i < StoredEntry::kTextFields) continue;
    if (end - begin < sizeof(uint32_t)) return false;
    uint32_t count = Load32(b + begin);
    size_t p = begin + sizeof(uint32_t);
    for (; count > 0; --count) {
      for (int half = 0; half < 2; ++half) {
        if (end - p < sizeof(uint32_t)) return false;
        const uint32_t len = Load32(b + p);
        p += sizeof(uint32_t);
        if (len > end - p) return false;
        p += len;
      }
    }
    if (p != end) return false;
  }
  return true;
}

}  // namespace

bool StoredEntry::Restore(SerialReader& r, StoredEntry* out) {
  out->time_ = r.Time();
  const uint64_t kind = r.Varint(), channel = r.Varint(), direction = r.Varint();
  if (!v1::EventKind_IsValid(static_cast<int>(kind)) || !v1::Channel_IsValid(static_cast<int>(channel)) ||
      !v1::Direction_IsValid(static_cast<int>(direction))) {
    return false;
  }
  out->kind_ = static_cast<v1::EventKind>(kind);
  out->channel_ = static_cast<v1::Channel>(channel);
  out->direction_ = static_cast<v1::Direction>(direction);
  const std::string_view block = r.Bytes();
  if (!r.ok()) return false;
  if (block.empty()) {
    out->block_.reset();
    return true;
  }
  if (!WellFormedBlock(block.data(), block.size())) return false;
  out->block_ = std::make_unique_for_overwrite<char[]>(block.size());
  std::memcpy(out->block_.get(), block.data(), block.size());
  return true;
}

size_t StoredEntry::BlockSize() const {
  return block_ == nullptr ? 0 : Load32(block_.get() + (kSections - 1) * sizeof(uint32_t));
}

std::string_view StoredEntry::text_field(TextField f) const {
  if (block_ == nullptr) return {};
  const auto [begin, end] = Section(block_.get(), f);
  return std::string_view(block_.get() + begin, end - begin);
}

PairList StoredEntry::pairs(PairField f) const {
  if (block_ == nullptr) return {};
  const auto [begin, end] = Section(block_.get(), size_t{kTextFields} + f);
  const char* b = block_.get() + begin;
  return PairList(b + sizeof(uint32_t), block_.get() + end, Load32(b));
}

std::vector<IdentifierValue> StoredEntry::Identifiers() const {
  std::vector<IdentifierValue> out;
  const PairList ids = identifiers();
  out.reserve(ids.size());
  for (const auto& [type, value] : ids) out.push_back({std::string(type), std::string(value)});
  return out;
}

TimelineEntry StoredEntry::View() const {
  TimelineEntry v;
  v.time = time_;
  v.source = source();
  v.event_id = event_id();
  v.kind = kind_;
  v.name = name();
  v.channel = channel_;
  v.direction = direction_;
  v.provider = provider();
  v.agent_id = agent_id();
  v.conversation_id = conversation_id();
  v.text = text();
  v.value = value();
  v.properties = properties().ToVector();
  return v;
}

void StoredEntry::SetIdentifiers(const std::vector<IdentifierValue>& identifiers) {
  EntryPacker p;
  for (size_t f = 0; f < kTextFields; ++f) p.Text(text_field(static_cast<TextField>(f)));
  for (size_t l = 0; l < kPairFields; ++l) {
    p.Pairs();
    if (l == kIdentifiers) {
      for (const IdentifierValue& id : identifiers) p.Pair(id.type, id.value);
    } else {
      for (const auto& [a, b] : pairs(static_cast<PairField>(l))) p.Pair(a, b);
    }
  }
  *this = p.Finish(time_, kind_, channel_, direction_);
}

namespace {

// Scrubs every string and number in `v` (a number with an erased part becomes a string).
void ScrubLeaves(google::protobuf::Value& v, const std::function<std::optional<std::string>(std::string_view)>& scrub,
                 bool* changed, int depth = 0) {
  if (depth > 64) return;
  switch (v.kind_case()) {
    case google::protobuf::Value::kStringValue:
      if (std::optional<std::string> out = scrub(v.string_value())) {
        v.set_string_value(*std::move(out));
        *changed = true;
      }
      break;
    case google::protobuf::Value::kNumberValue:
      if (std::optional<std::string> out = scrub(DisplayValue(v))) {
        v.set_string_value(*std::move(out));
        *changed = true;
      }
      break;
    case google::protobuf::Value::kStructValue: {
      google::protobuf::Struct out;  // Keys too: an object may be keyed by an address.
      for (auto& [key, inner] : *v.mutable_struct_value()->mutable_fields()) {
        ScrubLeaves(inner, scrub, changed, depth + 1);
        std::optional<std::string> k = scrub(key);
        if (k) *changed = true;
        (*out.mutable_fields())[k ? *k : key] = std::move(inner);
      }
      *v.mutable_struct_value() = std::move(out);
      break;
    }
    case google::protobuf::Value::kListValue:
      for (auto& inner : *v.mutable_list_value()->mutable_values()) ScrubLeaves(inner, scrub, changed, depth + 1);
      break;
    default:
      break;
  }
}

}  // namespace

bool StoredEntry::Scrub(const std::function<std::optional<std::string>(std::string_view)>& scrub) {
  bool changed = false;
  auto pass = [&](std::string_view s) -> std::string {
    std::optional<std::string> out = scrub(s);
    if (!out) return std::string(s);
    changed = true;
    return *std::move(out);
  };
  EntryPacker p;
  for (size_t f = 0; f < kTextFields; ++f) {
    const std::string_view v = text_field(static_cast<TextField>(f));
    p.Text(f == kSource || f == kEventId ? std::string(v) : pass(v));
  }
  for (size_t l = 0; l < kPairFields; ++l) {
    p.Pairs();
    const PairList list = pairs(static_cast<PairField>(l));
    if (l == kIdentifiers || l == kProperties) {
      // Identifiers are erased by the caller; key properties are named by the options.
      for (const auto& [a, b] : list) p.Pair(a, l == kIdentifiers ? std::string(b) : pass(b));
      continue;
    }
    // Traits and flattened properties take their keys from the event: both are scrubbed, and the
    // list sorted again as MakeEntry sorts it.
    std::vector<std::pair<std::string, std::string>> scrubbed;
    // A typed trait's text is scrubbed without its kind prefix (a short value matches only whole);
    // a number or boolean with an erased part is a string from then on.
    auto pass_trait = [&](std::string_view stored) -> std::string {
      const auto [kind, text] = ReadStoredTrait(stored);
      if (kind == TraitValue::Kind::kString) return pass(stored);
      if (kind == TraitValue::Kind::kNumber || kind == TraitValue::Kind::kBoolean) {
        std::optional<std::string> out = scrub(text);
        if (!out) return std::string(stored);
        changed = true;
        return *std::move(out);
      }
      // An object or array: each value in it scrubbed as a value of its own.
      absl::StatusOr<google::protobuf::Value> parsed = ParseJson(text);
      if (!parsed.ok()) return pass(stored);
      bool inner = false;
      ScrubLeaves(*parsed, scrub, &inner);
      if (!inner) return std::string(stored);
      changed = true;
      return StoredTrait(*parsed);
    };
    for (const auto& [a, b] : list) scrubbed.emplace_back(pass(a), l == kTraits ? pass_trait(b) : pass(b));
    std::sort(scrubbed.begin(), scrubbed.end());
    for (const auto& [a, b] : scrubbed) p.Pair(a, b);
  }
  StoredEntry out = p.Finish(time_, kind_, channel_, direction_);
  if (changed) *this = std::move(out);
  return changed;
}

void EntryPacker::Reset() {
  buf_.assign(kHeaderBytes, '\0');
  section_ = 0;
  in_pairs_ = false;
}

void EntryPacker::EndSection() {
  if (in_pairs_) Store32(buf_.data() + count_at_, count_);
  Store32(buf_.data() + section_ * sizeof(uint32_t), static_cast<uint32_t>(buf_.size()));
  ++section_;
  in_pairs_ = false;
}

void EntryPacker::Text(std::string_view s) {
  buf_.append(s);
  EndSection();
}

void EntryPacker::Pairs() {
  if (in_pairs_) EndSection();
  in_pairs_ = true;
  count_at_ = buf_.size();
  count_ = 0;
  Append32(&buf_, 0);
}

void EntryPacker::Pair(std::string_view first, std::string_view second) {
  Append32(&buf_, static_cast<uint32_t>(first.size()));
  buf_.append(first);
  Append32(&buf_, static_cast<uint32_t>(second.size()));
  buf_.append(second);
  ++count_;
}

StoredEntry EntryPacker::Finish(absl::Time time, v1::EventKind kind, v1::Channel channel, v1::Direction direction) {
  if (in_pairs_) EndSection();
  // Sections never given are empty.
  while (section_ < kSections) {
    if (section_ >= StoredEntry::kTextFields) Pairs();
    EndSection();
  }
  StoredEntry e;
  e.time_ = time;
  e.kind_ = kind;
  e.channel_ = channel;
  e.direction_ = direction;
  e.block_ = std::make_unique_for_overwrite<char[]>(buf_.size());
  std::memcpy(e.block_.get(), buf_.data(), buf_.size());
  Reset();
  return e;
}

namespace {

// Key/value pairs to sort before packing: views into the event, or into strings of its own (display
// forms of non-string values, nested paths) that keep their memory from call to call.
class PairScratch {
 public:
  void Clear() {
    pairs_.clear();
    used_ = 0;
  }
  size_t size() const { return pairs_.size(); }
  void Add(std::string_view key, std::string_view value) { pairs_.emplace_back(key, value); }
  // `value` as a display string (DisplayValue), without a copy for strings.
  std::string_view Display(const google::protobuf::Value& value) {
    if (value.kind_case() == google::protobuf::Value::kStringValue) return value.string_value();
    return Own() = DisplayValue(value);
  }
  // `value` as a stored trait (StoredTrait), without a copy for strings.
  std::string_view Trait(const google::protobuf::Value& value) {
    if (value.kind_case() == google::protobuf::Value::kStringValue) return value.string_value();
    return Own() = StoredTrait(value);
  }
  std::string_view Path(std::string_view prefix, std::string_view key) {
    std::string& s = Own();
    s.assign(prefix.data(), prefix.size());
    s.push_back('.');
    s.append(key.data(), key.size());
    return s;
  }
  std::vector<std::pair<std::string_view, std::string_view>>& Sorted() {
    std::sort(pairs_.begin(), pairs_.end());
    return pairs_;
  }

 private:
  std::string& Own() {
    if (used_ == owned_.size()) owned_.emplace_back();  // A deque: earlier strings stay put.
    return owned_[used_++];
  }
  std::vector<std::pair<std::string_view, std::string_view>> pairs_;
  std::deque<std::string> owned_;
  size_t used_ = 0;
};

// Appends `value` flattened under `path` ("order.total"): structures recurse, everything else is
// a display string. Stops at `max` pairs.
void Flatten(std::string_view path, const google::protobuf::Value& value, PairScratch& scratch, size_t max) {
  if (scratch.size() >= max) return;
  if (value.has_struct_value()) {
    for (const auto& [key, inner] : value.struct_value().fields()) Flatten(scratch.Path(path, key), inner, scratch, max);
    return;
  }
  scratch.Add(path, scratch.Display(value));
}

}  // namespace

StoredEntry MakeEntry(const Event& event, const TimelineOptions& options) {
  // Scratch reused across calls on the thread: building an entry allocates only its block.
  thread_local EntryPacker packer;
  thread_local PairScratch scratch;
  EntryPacker& p = packer;
  p.Text(event.source());
  p.Text(event.event_id());
  p.Text(event.name());
  p.Text(event.provider());
  p.Text(event.agent_id());
  p.Text(event.conversation_id());
  p.Text(CutUtf8(event.text(), options.max_text_bytes));
  const bool money = event.has_value() && !event.value().currency().empty();
  p.Text(money ? FormatMoney(event.value()) : std::string());
  p.Text(event.session_id());
  p.Text(money ? absl::StrCat(static_cast<double>(event.value().units()) + event.value().nanos() / 1e9) : std::string());
  p.Text(money ? std::string_view(event.value().currency()) : std::string_view());

  const auto& fields = event.properties().fields();
  p.Pairs();
  // The account the event is about (a group call's, or context.groupId) comes first: the context's
  // groups read it; a "group_id" property gives way to it.
  const bool grouped = !event.group_id().empty();
  if (grouped) p.Pair("group_id", event.group_id());
  // One pass over the event's (few) properties, then the key properties in the configured order:
  // cheaper than one map lookup per configured key.
  thread_local std::vector<std::pair<size_t, const google::protobuf::Value*>> keyed;
  keyed.clear();
  for (const auto& [key, value] : fields) {
    if (grouped && key == "group_id") continue;
    for (size_t k = 0; k < options.key_properties.size(); ++k) {
      if (options.key_properties[k] == key) {
        keyed.emplace_back(k, &value);
        break;
      }
    }
  }
  std::sort(keyed.begin(), keyed.end());
  auto next = keyed.begin();
  for (size_t k = 0; k < options.key_properties.size(); ++k) {
    const std::string& key = options.key_properties[k];
    if (next != keyed.end() && next->first == k) {
      const google::protobuf::Value& v = *next->second;
      if (v.kind_case() == google::protobuf::Value::kStringValue) {
        p.Pair(key, v.string_value());
      } else {
        p.Pair(key, DisplayValue(v));
      }
      ++next;
    } else if (key == "group_id" && grouped) {
      // Already first.
    } else if (key == "path" && !event.context().page().path().empty()) {
      p.Pair(key, event.context().page().path());
    }
  }
  p.Pairs();
  for (const auto& id : event.identifiers()) p.Pair(id.type(), id.value());
  if (event.has_previous_id()) p.Pair(event.previous_id().type(), event.previous_id().value());
  p.Pairs();
  scratch.Clear();
  for (const auto& [key, value] : event.traits().fields()) {
    scratch.Add(key, scratch.Trait(value));
  }
  for (const auto& [k, v] : scratch.Sorted()) p.Pair(k, v);  // Map iteration order is unspecified.
  p.Pairs();
  scratch.Clear();
  for (const auto& [key, value] : fields) Flatten(key, value, scratch, StoredEntry::kMaxFlatProperties);
  for (const auto& [k, v] : scratch.Sorted()) p.Pair(k, v);
  return p.Finish(FromTimestamp(event.occurred_at()), event.kind(), event.channel(), event.direction());
}

ProfileTimeline::ProfileTimeline(ProfileTimeline&& other) noexcept
    : tenant_(std::move(other.tenant_)), entries_(std::move(other.entries_)) {
  WriterLock lock(&other.cache_mu_);
  cache_ = std::move(other.cache_);
}

ProfileTimeline& ProfileTimeline::operator=(ProfileTimeline&& other) noexcept {
  if (this == &other) return *this;
  tenant_ = std::move(other.tenant_);
  entries_ = std::move(other.entries_);
  std::unique_ptr<TimelineCache> moved;
  {
    WriterLock lock(&other.cache_mu_);
    moved = std::move(other.cache_);
  }
  WriterLock lock(&cache_mu_);
  cache_ = std::move(moved);
  return *this;
}

void ProfileTimeline::DropCache() {
  WriterLock lock(&cache_mu_);
  cache_.reset();
}

ProfileTimeline::Dropped ProfileTimeline::Insert(StoredEntry entry, const TimelineOptions& options, absl::Time now) {
  if (entries_.empty() || entries_.back().Key() < entry.Key()) {
    entries_.push_back(std::move(entry));  // An append: a cache stays valid.
  } else {
    auto at = std::upper_bound(entries_.begin(), entries_.end(), entry,
                               [](const StoredEntry& a, const StoredEntry& b) { return a.Key() < b.Key(); });
    entries_.insert(at, std::move(entry));
    DropCache();
  }
  return Retain(options, now);
}

ProfileTimeline::Dropped ProfileTimeline::Absorb(ProfileTimeline&& other, const TimelineOptions& options, absl::Time now) {
  const size_t middle = entries_.size();
  for (StoredEntry& e : other.entries_) entries_.push_back(std::move(e));
  other.entries_.clear();
  other.DropCache();
  std::inplace_merge(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(middle), entries_.end(),
                     [](const StoredEntry& a, const StoredEntry& b) { return a.Key() < b.Key(); });
  DropCache();
  return Retain(options, now);
}

std::vector<StoredEntry> ProfileTimeline::TakeAll() {
  std::vector<StoredEntry> out = std::move(entries_);
  entries_.clear();
  DropCache();
  return out;
}

ProfileTimeline::Dropped ProfileTimeline::Retain(const TimelineOptions& options, absl::Time now) {
  Dropped dropped;
  dropped.by_count = entries_.size() > options.max_entries ? entries_.size() - options.max_entries : 0;
  size_t drop = dropped.by_count;
  const absl::Time oldest = now - options.max_age;
  while (drop < entries_.size() && entries_[drop].time() < oldest) ++drop;
  dropped.by_age = drop - dropped.by_count;
  if (drop > 0) {
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
    DropCache();
  }
  return dropped;
}

std::string ProfileTimeline::Encode() const {
  SerialWriter w;
  Save(w);
  return std::move(w.mutable_data());
}

void TraitReconciler::Save(SerialWriter& w) const {
  w.Varint(traits_.size());
  for (const auto& [key, t] : traits_) {
    w.Bytes(key);
    w.Bytes(StoredTrait(t.kind, t.value));
    w.Bytes(t.source);
    w.Time(t.time);
  }
  w.Varint(ranks_.size());
  for (const auto& [key, rank] : ranks_) {
    w.Bytes(key);
    w.U64(rank);
  }
}

bool TraitReconciler::Restore(SerialReader& r) {
  const size_t traits = r.Count(11);
  for (size_t i = 0; i < traits && r.ok(); ++i) {
    std::string key(r.Bytes());
    TraitValue t;
    const auto [kind, text] = ReadStoredTrait(r.Bytes());
    t.kind = kind;
    t.value = std::string(text);
    t.source = std::string(r.Bytes());
    t.time = r.Time();
    traits_[std::move(key)] = std::move(t);
  }
  const size_t ranks = r.Count(9);
  for (size_t i = 0; i < ranks && r.ok(); ++i) {
    std::string key(r.Bytes());
    ranks_[std::move(key)] = static_cast<size_t>(r.U64());
  }
  return r.ok();
}

void ProfileTimeline::Save(SerialWriter& w) const {
  w.Bytes(tenant_);
  w.Varint(entries_.size());
  for (const StoredEntry& e : entries_) e.Save(w);
}

absl::StatusOr<ProfileTimeline> ProfileTimeline::Restore(SerialReader& r) {
  ProfileTimeline out{std::string(r.Bytes())};
  const size_t n = r.Count(12);
  out.entries_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    if (!StoredEntry::Restore(r, &out.entries_[i])) {
      r.Fail();
      break;
    }
  }
  RETURN_IF_ERROR(r.status("timeline"));
  return out;
}

absl::StatusOr<ProfileTimeline> ProfileTimeline::Decode(std::string_view bytes) {
  SerialReader r(bytes);
  absl::StatusOr<ProfileTimeline> t = Restore(r);
  if (t.ok() && !r.done()) return absl::DataLossError("stored profile timeline: trailing bytes");
  return t;
}

void TraitReconciler::Observe(const StoredEntry& e) {
  const PairList traits = e.traits();
  if (traits.empty()) return;
  size_t rank = 0;
  if (priority_ != nullptr) {
    rank = static_cast<size_t>(std::find(priority_->begin(), priority_->end(), e.source()) - priority_->begin());
  }
  for (const auto& [key, value] : traits) {
    auto it = ranks_.find(key);
    if (it == ranks_.end()) {
      ranks_.emplace(std::string(key), rank);
      if (value != kClearedTrait) {
        const auto [kind, text] = ReadStoredTrait(value);
        traits_[std::string(key)] = {std::string(text), std::string(e.source()), e.time(), kind};
      }
    } else if (rank <= it->second) {
      it->second = rank;
      if (value == kClearedTrait) {
        if (auto t = traits_.find(key); t != traits_.end()) traits_.erase(t);
        continue;
      }
      auto t = traits_.find(key);
      if (t == traits_.end()) t = traits_.emplace(std::string(key), TraitValue{}).first;
      const auto [kind, text] = ReadStoredTrait(value);
      t->second.value.assign(text);
      t->second.kind = kind;
      t->second.source.assign(e.source());
      t->second.time = e.time();
    }
  }
}

}  // namespace internal
}  // namespace omnijourney
