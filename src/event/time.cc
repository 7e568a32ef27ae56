// Time conversions and ISO-8601 parsing for events.
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "omnijourney/event.h"

namespace omnijourney {
namespace {

// Bounds of google.protobuf.Timestamp: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

absl::Status Bad(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("'", internal::ToAbsl(text),
                                                 "' is not an ISO-8601 date-time: ",
                                                 internal::ToAbsl(why)));
}

// Reads exactly `n` digits at `*pos`.
bool Digits(std::string_view s, size_t* pos, int n, int* out) {
  if (*pos + n > s.size()) return false;
  int v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = s[*pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool Consume(std::string_view s, size_t* pos, char c) {
  if (*pos < s.size() && s[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

}  // namespace

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp ts;
  if (t <= absl::FromUnixSeconds(kMinTimestampSeconds)) {
    ts.set_seconds(kMinTimestampSeconds);
    return ts;
  }
  if (t >= absl::FromUnixSeconds(kMaxTimestampSeconds + 1)) {
    ts.set_seconds(kMaxTimestampSeconds);
    ts.set_nanos(999999999);
    return ts;
  }
  const int64_t seconds = absl::ToUnixSeconds(t);  // Rounds toward negative infinity.
  ts.set_seconds(seconds);
  ts.set_nanos(static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
  return ts;
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

std::string FormatRfc3339(absl::Time t) {
  // Whole nanoseconds within int64 nanoseconds of the epoch (1677-09-21 to 2262-04-11: every time an
  // event or a journey timer has in practice) are written here, the same text as the general
  // format below at about a third of its cost (journey timeouts name their time in their cause).
  const int64_t ns = absl::ToUnixNanos(t);
  if (absl::FromUnixNanos(ns) != t) return absl::FormatTime("%E4Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
  const absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  int64_t frac = ns % 1'000'000'000;
  if (frac < 0) frac += 1'000'000'000;
  char buf[40];
  char* p = buf;
  auto put = [&p](int64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) {
      p[i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  put(cs.year(), 4);
  *p++ = '-';
  put(cs.month(), 2);
  *p++ = '-';
  put(cs.day(), 2);
  *p++ = 'T';
  put(cs.hour(), 2);
  *p++ = ':';
  put(cs.minute(), 2);
  *p++ = ':';
  put(cs.second(), 2);
  if (frac != 0) {
    *p++ = '.';
    int width = 9;
    while (frac % 10 == 0) {
      frac /= 10;
      --width;
    }
    put(frac, width);
  }
  *p++ = 'Z';
  return std::string(buf, static_cast<size_t>(p - buf));
}

absl::StatusOr<absl::Time> ParseIso8601(std::string_view s) {
  size_t pos = 0;
  int year, month, day;
  if (!Digits(s, &pos, 4, &year) || !Consume(s, &pos, '-') || !Digits(s, &pos, 2, &month) ||
      !Consume(s, &pos, '-') || !Digits(s, &pos, 2, &day)) {
    return Bad(s, "expected YYYY-MM-DD");
  }
  if (month < 1 || month > 12) return Bad(s, "month out of range");
  const absl::CivilDay civil_day(year, month, day);
  if (day < 1 || civil_day.day() != day || civil_day.month() != month) {
    return Bad(s, "day out of range for the month");
  }
  int hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  int64_t offset_seconds = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return Bad(s, "expected 'T' after the date");
    ++pos;
    if (!Digits(s, &pos, 2, &hour) || !Consume(s, &pos, ':') || !Digits(s, &pos, 2, &minute)) {
      return Bad(s, "expected hh:mm after the date");
    }
    if (Consume(s, &pos, ':')) {
      if (!Digits(s, &pos, 2, &second)) return Bad(s, "expected two digits of seconds");
      if (Consume(s, &pos, '.') || Consume(s, &pos, ',')) {
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 9) nanos = nanos * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return Bad(s, "expected digits after the decimal point");
        for (int i = digits; i < 9; ++i) nanos *= 10;
      }
    }
    if (hour > 23 || minute > 59 || second > 59) return Bad(s, "time of day out of range");
    if (pos < s.size()) {
      const char sign = s[pos];
      if (sign == 'Z' || sign == 'z') {
        ++pos;
      } else if (sign == '+' || sign == '-') {
        ++pos;
        int oh = 0, om = 0;
        if (!Digits(s, &pos, 2, &oh)) return Bad(s, "expected a UTC offset +hh:mm");
        if (Consume(s, &pos, ':')) {
          if (!Digits(s, &pos, 2, &om)) return Bad(s, "expected a UTC offset +hh:mm");
        } else if (pos < s.size() && !Digits(s, &pos, 2, &om)) {
          return Bad(s, "expected a UTC offset +hh:mm");
        }
        if (oh > 23 || om > 59) return Bad(s, "UTC offset out of range");
        offset_seconds = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
      } else {
        return Bad(s, "unexpected characters after the time");
      }
    }
    if (pos != s.size()) return Bad(s, "unexpected characters after the UTC offset");
  }
  const absl::Time local = absl::FromCivil(absl::CivilSecond(year, month, day, hour, minute, second),
                                           absl::UTCTimeZone());
  return local - absl::Seconds(offset_seconds) + absl::Nanoseconds(nanos);
}

}  // namespace omnijourney
