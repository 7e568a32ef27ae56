#include "store/log.h"

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "store/crypto.h"
#include "omnijourney/event.h"

namespace omnijourney::internal {
namespace {

class MemoryLog final : public Log {
 public:
  explicit MemoryLog(size_t max_bytes) : max_bytes_(max_bytes) {}

  bool keeps_records() const override { return max_bytes_ > 0; }
  bool durable() const override { return false; }

  absl::StatusOr<LogPosition> Append(std::vector<std::string> records) override {
    if (max_bytes_ == 0) {
      last_ += records.size();
      return last_;
    }
    for (std::string& r : records) {
      bytes_ += r.size();
      records_.push_back(std::move(r));
    }
    last_ += records.size();
    // Keep the last append whole, whatever its size.
    while (records_.size() > records.size() && bytes_ > max_bytes_) {
      bytes_ -= records_.front().size();
      records_.pop_front();
    }
    return last_;
  }

  LogPosition last() const override { return last_; }

  absl::Status Read(LogPosition after,
                    const std::function<absl::Status(LogPosition, const v1::LogRecord&)>& fn) const override {
    const LogPosition first = last_ - records_.size() + 1;
    for (LogPosition pos = std::max(after + 1, first); pos <= last_; ++pos) {
      const std::string& bytes = records_[pos - first];
      if (bytes.empty()) continue;  // Deleted.
      v1::LogRecord r;
      if (!r.ParseFromString(bytes)) return absl::DataLossError(absl::StrCat("log record ", pos, ": unreadable"));
      if (absl::Status s = fn(pos, r); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<std::string>> Get(LogPosition position) const override {
    const LogPosition first = last_ - records_.size() + 1;
    if (position < first || position > last_ || records_[position - first].empty()) return std::optional<std::string>();
    return std::optional<std::string>(records_[position - first]);
  }

  absl::StatusOr<LogPosition> Erase(Erasure erasure) override {
    // In memory nothing outlives the process: the erased records are dropped or replaced in place.
    const LogPosition first = last_ - records_.size() + 1;
    auto set = [&](LogPosition pos, std::string bytes) {
      if (pos < first || pos > last_) return;
      std::string& slot = records_[pos - first];
      bytes_ -= slot.size();
      slot = std::move(bytes);
      bytes_ += slot.size();
    };
    for (LogPosition pos : erasure.shred) set(pos, std::string());
    for (auto& [pos, record] : erasure.replace) set(pos, record.SerializeAsString());
    tombstones_.insert(tombstones_.end(), erasure.tombstones.begin(), erasure.tombstones.end());
    {
      std::lock_guard<std::mutex> lock(keys_mu_);
      snapshot_keys_.clear();
    }
    std::vector<std::string> records;
    records.push_back(std::move(erasure.record));
    ASSIGN_OR_RETURN(last_erasure_, Append(std::move(records)));
    return last_erasure_;
  }

  absl::Status Purge() override { return absl::OkStatus(); }

  Tombstone TombstoneOf(std::string_view key) const override { return crypto::KeyedHash(secret_, key); }
  std::vector<Tombstone> Tombstones() const override { return tombstones_; }
  LogPosition last_erasure() const override { return last_erasure_; }

  absl::StatusOr<std::optional<crypto::Key>> SnapshotKey(LogPosition position, bool create) override {
    std::lock_guard<std::mutex> lock(keys_mu_);
    if (create) return std::optional<crypto::Key>(snapshot_keys_[position] = crypto::RandomKey());
    auto it = snapshot_keys_.find(position);
    if (it == snapshot_keys_.end()) return std::optional<crypto::Key>();
    return std::optional<crypto::Key>(it->second);
  }
  absl::Status DropSnapshotKeys(LogPosition before) override {
    std::lock_guard<std::mutex> lock(keys_mu_);
    snapshot_keys_.erase(snapshot_keys_.begin(), snapshot_keys_.lower_bound(before));
    return absl::OkStatus();
  }

  bool ContainsForTesting(std::string_view needle) const override {
    for (const std::string& bytes : records_) {
      if (bytes.find(needle) != std::string::npos) return true;
    }
    return false;
  }

 private:
  const size_t max_bytes_;
  std::deque<std::string> records_;  // Positions last_ - size + 1 .. last_; "" for deleted ones.
  size_t bytes_ = 0;
  LogPosition last_ = 0;
  LogPosition last_erasure_ = 0;
  const crypto::Key secret_ = crypto::RandomKey();  // Tombstones last as long as the log.
  std::vector<Tombstone> tombstones_;
  std::mutex keys_mu_;
  std::map<LogPosition, crypto::Key> snapshot_keys_;
};

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

}  // namespace

std::unique_ptr<Log> NewMemoryLog(size_t max_bytes) { return std::make_unique<MemoryLog>(max_bytes); }

std::string EncodeEventRecord(const v1::Event& event, absl::Time at) {
  // LogRecord.event is field 1, length-delimited: tag 0x0A, varint length, the event's bytes; then
  // LogRecord.at (field 15, tag 0x7A) when set.
  const size_t size = event.ByteSizeLong();
  std::string out;
  out.reserve(size + 32);
  out.push_back('\x0A');
  PutVarint(out, size);
  const size_t header = out.size();
  out.resize(header + size);
  event.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + header));
  if (at != absl::InfinitePast()) {
    const std::string ts = ToTimestamp(at).SerializeAsString();
    out.push_back('\x7A');
    PutVarint(out, ts.size());
    out += ts;
  }
  return out;
}

void AppendAuditProfiles(std::string* record, const std::vector<uint64_t>& profiles) {
  if (profiles.empty()) return;
  v1::LoggedErasure part;
  for (const uint64_t p : profiles) part.add_audit_profiles(p);
  const std::string bytes = part.SerializeAsString();
  record->push_back('\x3A');  // LogRecord.erasure: field 7, length-delimited.
  PutVarint(*record, bytes.size());
  record->append(bytes);
}

void AppendSource(std::string* record, uint64_t position, uint64_t check) {
  if (position == 0) return;
  // LogRecord.source_check: field 12, fixed64 (tag 0x61); LogRecord.source: field 13, varint (tag 0x68).
  record->push_back('\x61');
  for (int i = 0; i < 8; ++i) record->push_back(static_cast<char>((check >> (8 * i)) & 0xFF));
  record->push_back('\x68');
  PutVarint(*record, position);
}

}  // namespace omnijourney::internal
