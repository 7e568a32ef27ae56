// Per-profile timeline: the profile's events in event-time order, reduced to TimelineEntry, with
// bounded retention and the traits reconciled from them.
#ifndef OMNIJOURNEY_SRC_TIMELINE_TIMELINE_H_
#define OMNIJOURNEY_SRC_TIMELINE_TIMELINE_H_

#include <cstdint>
#include <iterator>
#include <map>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "omnijourney/event.h"
#include "omnijourney/profile_id.h"
#include "omnijourney/timeline_options.h"
#include "omnijourney/timeline_types.h"
#include "common/serial.h"

namespace omnijourney::internal {

// Pairs of strings packed into a StoredEntry's block: properties, identifiers (type, value), traits,
// flattened properties. Views into the entry; valid while it lives and is not modified.
class PairList {
 public:
  using value_type = std::pair<std::string_view, std::string_view>;

  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = PairList::value_type;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;

    iterator() = default;
    explicit iterator(const char* p) : p_(p) {}
    value_type operator*() const;
    iterator& operator++();
    iterator operator++(int) {
      iterator old = *this;
      ++*this;
      return old;
    }
    bool operator==(const iterator& o) const { return p_ == o.p_; }
    bool operator!=(const iterator& o) const { return p_ != o.p_; }

   private:
    const char* p_ = nullptr;
  };

  PairList() = default;
  PairList(const char* begin, const char* end, uint32_t count) : begin_(begin), end_(end), count_(count) {}
  iterator begin() const { return iterator(begin_); }
  iterator end() const { return iterator(end_); }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The second of the first pair whose first is `key`; nullopt when none.
  std::optional<std::string_view> Find(std::string_view key) const;
  std::vector<std::pair<std::string, std::string>> ToVector() const;

 private:
  const char* begin_ = nullptr;
  const char* end_ = nullptr;
  uint32_t count_ = 0;
};

// A stored event: what the operator sees, plus what re-attribution, trait reconciliation and journey
// predicates need. Compact: the time and the enums inline, every string in one heap block (a header
// of section ends, then the texts, then the pair lists), so an event costs one allocation.
class StoredEntry {
 public:
  // The text fields, in block order.
  enum TextField : uint8_t {
    kSource, kEventId, kName, kProvider, kAgentId, kConversationId, kText, kValue,
    kSessionId,   // The event's session.
    kValueUnits,  // Decimal, e.g. "1249.9"; empty without a value.
    kCurrency,
    kTextFields
  };
  // The pair lists, in block order.
  enum PairField : uint8_t {
    kProperties,      // TimelineOptions::key_properties as display strings.
    kIdentifiers,     // (type, value), raw as the event carried them (incl. previous_id).
    kTraits,          // Flattened display values, sorted.
    kFlatProperties,  // Every property flattened to "a.b" paths, sorted, at most kMaxFlatProperties.
    kPairFields
  };
  static constexpr size_t kMaxFlatProperties = 64;

  StoredEntry() = default;
  StoredEntry(const StoredEntry& other) { *this = other; }
  StoredEntry& operator=(const StoredEntry& other);
  StoredEntry(StoredEntry&&) noexcept = default;
  StoredEntry& operator=(StoredEntry&&) noexcept = default;

  absl::Time time() const { return time_; }
  v1::EventKind kind() const { return kind_; }
  v1::Channel channel() const { return channel_; }
  v1::Direction direction() const { return direction_; }
  std::string_view text_field(TextField f) const;
  PairList pairs(PairField f) const;

  std::string_view source() const { return text_field(kSource); }
  std::string_view event_id() const { return text_field(kEventId); }
  std::string_view name() const { return text_field(kName); }
  std::string_view provider() const { return text_field(kProvider); }
  std::string_view agent_id() const { return text_field(kAgentId); }
  std::string_view conversation_id() const { return text_field(kConversationId); }
  std::string_view text() const { return text_field(kText); }
  std::string_view value() const { return text_field(kValue); }
  std::string_view session_id() const { return text_field(kSessionId); }
  std::string_view value_units() const { return text_field(kValueUnits); }
  std::string_view currency() const { return text_field(kCurrency); }
  PairList properties() const { return pairs(kProperties); }
  PairList identifiers() const { return pairs(kIdentifiers); }
  PairList traits() const { return pairs(kTraits); }
  PairList flat_properties() const { return pairs(kFlatProperties); }

  // A key property's value, or "" when absent (like TimelineEntry::Property).
  std::string_view Property(std::string_view key) const { return properties().Find(key).value_or(""); }
  std::vector<IdentifierValue> Identifiers() const;
  // What the operator sees (a copy).
  TimelineEntry View() const;
  // Heap bytes of the block.
  size_t BlockSize() const;

  // Snapshots: the entry as bytes (its block as it is) and back. Restore returns false for bytes
  // that are not a well-formed entry.
  void Save(SerialWriter& w) const;
  static bool Restore(SerialReader& r, StoredEntry* out);

  // Replaces the identifiers, keeping everything else (an identifier was unlinked).
  void SetIdentifiers(const std::vector<IdentifierValue>& identifiers);
  // Passes every text field but the source and the event id (the entry's key), every value of the
  // pair lists but the identifiers, and the keys of the traits and flattened properties (which are
  // sorted again), through `scrub` (nullopt: unchanged), for erasure. Returns whether anything
  // changed.
  bool Scrub(const std::function<std::optional<std::string>(std::string_view)>& scrub);

  // Timeline order: event time, then source and event id (total and arrival-independent).
  std::tuple<absl::Time, std::string_view, std::string_view> Key() const {
    return {time_, source(), event_id()};
  }

 private:
  friend class EntryPacker;
  absl::Time time_;
  v1::EventKind kind_ = v1::EVENT_KIND_UNSPECIFIED;
  v1::Channel channel_ = v1::CHANNEL_UNSPECIFIED;
  v1::Direction direction_ = v1::DIRECTION_UNSPECIFIED;
  std::unique_ptr<char[]> block_;  // Null: every field empty.
};

// Builds a StoredEntry: Text() once per TextField in order, then Pairs() and Pair() for each
// PairField in order, then Finish(). Reusable.
class EntryPacker {
 public:
  EntryPacker() { Reset(); }
  void Text(std::string_view s);
  // Starts the next pair list (closing the previous one).
  void Pairs();
  void Pair(std::string_view first, std::string_view second);
  // REQUIRES: every field given. Resets the packer.
  StoredEntry Finish(absl::Time time, v1::EventKind kind, v1::Channel channel, v1::Direction direction);

 private:
  void Reset();
  void EndSection();

  std::string buf_;
  size_t section_ = 0;      // The next section to end.
  size_t count_at_ = 0;     // Where the open pair list's count goes.
  uint32_t count_ = 0;
  bool in_pairs_ = false;
};

// REQUIRES: `event` passed ValidateEvent.
StoredEntry MakeEntry(const Event& event, const TimelineOptions& options);

// A display string for a protobuf Value: strings as is, whole numbers without ".0", others as JSON.
std::string DisplayValue(const google::protobuf::Value& value);

// A trait set to null (Segment's way of clearing one), as stored in an entry's traits: one byte
// that is never valid UTF-8, so no string trait can be it.
inline constexpr std::string_view kClearedTrait = "\xFF";

// A trait as stored in an entry: a string as is; any other JSON value as kTypedTrait, a letter for
// its kind (n, b, o, a) and its DisplayValue. 0xFE never starts valid UTF-8, so no string is one.
inline constexpr char kTypedTrait = '\xFE';
std::string StoredTrait(const google::protobuf::Value& value);
// The stored form of a value of `kind` whose text (DisplayValue) is `text`.
std::string StoredTrait(TraitValue::Kind kind, std::string_view text);
// The stored form's kind and text (the text is a view into `stored`).
std::pair<TraitValue::Kind, std::string_view> ReadStoredTrait(std::string_view stored);

// Trait reconciliation: a value from a higher-priority source (earlier in `source_priority`) wins
// whatever the time; unlisted sources rank below listed ones; among equal ranks the later value wins.
// A null (kClearedTrait) clears the trait under the same rule.
// Shared by the context and by journey conditions so they never disagree.
class TraitReconciler {
 public:
  explicit TraitReconciler(const std::vector<std::string>* source_priority) : priority_(source_priority) {}
  // REQUIRES: entries in timeline order.
  void Observe(const StoredEntry& e);
  const std::map<std::string, TraitValue, std::less<>>& traits() const { return traits_; }
  // Snapshots.
  void Save(SerialWriter& w) const;
  bool Restore(SerialReader& r);

 private:
  const std::vector<std::string>* priority_;  // May be null: every source ranks the same.
  std::map<std::string, TraitValue, std::less<>> traits_;
  std::map<std::string, size_t, std::less<>> ranks_;
};

// Something derived from a timeline's entries and kept current as entries are appended (the context
// summary). The timeline drops it whenever its entries change other than by appending.
class TimelineCache {
 public:
  virtual ~TimelineCache() = default;
};

class ProfileTimeline {
 public:
  explicit ProfileTimeline(std::string tenant) : tenant_(std::move(tenant)) {}
  // Moves keep the entries (their blocks stay where they are) and the cache.
  ProfileTimeline(ProfileTimeline&& other) noexcept;
  ProfileTimeline& operator=(ProfileTimeline&& other) noexcept;

  const std::string& tenant() const { return tenant_; }
  const std::vector<StoredEntry>& entries() const { return entries_; }

  // Entries retention dropped: the oldest beyond options.max_entries, and those older than
  // now - options.max_age.
  struct Dropped {
    size_t by_count = 0;
    size_t by_age = 0;
  };
  // Inserts in timeline order (appends in O(1) when in order) and applies retention as of `now`.
  Dropped Insert(StoredEntry entry, const TimelineOptions& options, absl::Time now);
  // Moves every entry of `other` in (re-sorting once), then applies retention.
  Dropped Absorb(ProfileTimeline&& other, const TimelineOptions& options, absl::Time now);
  // Takes all entries out (for re-attribution).
  std::vector<StoredEntry> TakeAll();
  // Removes entries for which `drop` is true; `edit` may change the others first.
  template <typename Edit>
  void Rewrite(Edit&& edit) {
    std::vector<StoredEntry> kept;
    kept.reserve(entries_.size());
    for (StoredEntry& e : entries_) {
      if (edit(e)) kept.push_back(std::move(e));
    }
    entries_ = std::move(kept);
    DropCache();
  }

  // The derived cache; read and replaced under cache_mutex() (readers may share the timeline).
  absl::Mutex& cache_mutex() const ABSL_LOCK_RETURNED(cache_mu_) { return cache_mu_; }
  TimelineCache* cache() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(cache_mu_) { return cache_.get(); }
  void set_cache(std::unique_ptr<TimelineCache> cache) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(cache_mu_) {
    cache_ = std::move(cache);
  }

  // The timeline as bytes and back, for profiles spilled out of the cache: Save's bytes, the entry
  // blocks copied as they are. DataLoss when `bytes` are not such a timeline.
  std::string Encode() const;
  static absl::StatusOr<ProfileTimeline> Decode(std::string_view bytes);
  // The same into and out of a snapshot's stream. DataLoss when malformed.
  void Save(SerialWriter& w) const;
  static absl::StatusOr<ProfileTimeline> Restore(SerialReader& r);

 private:
  Dropped Retain(const TimelineOptions& options, absl::Time now);

  void DropCache();

  std::string tenant_;
  std::vector<StoredEntry> entries_;  // Timeline order.
  mutable absl::Mutex cache_mu_;
  mutable std::unique_ptr<TimelineCache> cache_ ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_TIMELINE_TIMELINE_H_
