// Reading the fields of Segment messages: errors and warnings that name the field's full path
// ("batch[3].context.page.url"), and lenient readers that drop a field of the wrong type with a
// warning.
#ifndef OMNIJOURNEY_SRC_EVENT_SEGMENT_READER_H_
#define OMNIJOURNEY_SRC_EVENT_SEGMENT_READER_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "google/protobuf/struct.pb.h"

namespace omnijourney::internal {

inline absl::Status Invalid(std::string_view path, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(ToAbsl(path), ": ", ToAbsl(what)));
}

inline std::string Join(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return absl::StrCat(ToAbsl(prefix), ".", ToAbsl(key));
}

inline std::string_view KindOf(const google::protobuf::Value& v) {
  switch (v.kind_case()) {
    case google::protobuf::Value::kNullValue: return "null";
    case google::protobuf::Value::kNumberValue: return "a number";
    case google::protobuf::Value::kStringValue: return "a string";
    case google::protobuf::Value::kBoolValue: return "a boolean";
    case google::protobuf::Value::kStructValue: return "an object";
    case google::protobuf::Value::kListValue: return "an array";
    default: return "nothing";
  }
}

// A field dropped, cut or made up, as Segment keeps such a message: its kind
// (RecordWarning::kind) and message.
struct Warning {
  const char* kind;
  std::string message;
  bool operator==(const Warning& o) const { return message == o.message; }
};
using Warnings = std::vector<Warning>;

// Reads fields of one JSON object, naming the full path in errors. A lenient reader (and the readers
// of its objects) turns a field of the wrong type into a warning and reads it as absent: Segment
// keeps such a message and drops the field.
class ObjectReader {
 public:
  ObjectReader(const google::protobuf::Struct* s, std::string path, Warnings* lenient = nullptr)
      : s_(s), path_(std::move(path)), lenient_(lenient) {}

  ObjectReader Lenient(Warnings* warnings) const { return ObjectReader(s_, path_, warnings); }
  ObjectReader Strict() const { return ObjectReader(s_, path_); }

  const std::string& path() const { return path_; }

  // Null for absent keys and JSON null.
  const google::protobuf::Value* Get(std::string_view key) const {
    if (s_ == nullptr) return nullptr;
    auto it = s_->fields().find(std::string(key));
    if (it == s_->fields().end() || it->second.kind_case() == google::protobuf::Value::kNullValue) return nullptr;
    return &it->second;
  }

  // A string field; an integral number is accepted and printed without a fraction (SDKs sometimes
  // send numeric user ids). Absent/null gives "".
  absl::StatusOr<std::string> String(std::string_view key) const {
    const google::protobuf::Value* v = Get(key);
    if (v == nullptr) return std::string();
    if (v->kind_case() == google::protobuf::Value::kStringValue) return v->string_value();
    if (v->kind_case() == google::protobuf::Value::kNumberValue) {
      const double d = v->number_value();
      if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
        return absl::StrCat(static_cast<int64_t>(d));
      }
    }
    return Wrong(Join(path_, key), absl::StrCat("expected a string, got ", ToAbsl(KindOf(*v))), std::string());
  }

  // A nested object; absent/null gives a reader over nothing.
  absl::StatusOr<ObjectReader> Object(std::string_view key) const {
    const google::protobuf::Value* v = Get(key);
    if (v == nullptr) return ObjectReader(nullptr, Join(path_, key), lenient_);
    if (v->kind_case() != google::protobuf::Value::kStructValue) {
      return Wrong(Join(path_, key), absl::StrCat("expected an object, got ", ToAbsl(KindOf(*v))),
                   ObjectReader(nullptr, Join(path_, key), lenient_));
    }
    return ObjectReader(&v->struct_value(), Join(path_, key), lenient_);
  }

  const google::protobuf::Struct* raw() const { return s_; }

 private:
  // The error, or for a lenient reader a warning and `absent`.
  template <typename T>
  absl::StatusOr<T> Wrong(const std::string& path, std::string_view what, T absent) const {
    if (lenient_ == nullptr) return Invalid(path, what);
    lenient_->push_back({"dropped_field", absl::StrCat(path, ": ", ToAbsl(what), "; dropped")});
    return absent;
  }

  const google::protobuf::Struct* s_;
  std::string path_;
  Warnings* lenient_;
};

}  // namespace omnijourney::internal

#endif  // OMNIJOURNEY_SRC_EVENT_SEGMENT_READER_H_
