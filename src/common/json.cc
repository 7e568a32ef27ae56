#include "common/json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace omnijourney::internal {
namespace {

using google::protobuf::Value;

class Parser {
 public:
  Parser(std::string_view text, const JsonParseOptions& options)
      : p_(text.data()),
        end_(text.data() + text.size()),
        line_start_(text.data()),
        line_(options.first_line),
        max_depth_(options.max_depth) {}

  // `out` may be null: syntax check only.
  absl::Status ParseDocument(Value* out) {
    SkipWhitespace();
    if (p_ == end_) return Error("empty input, expected a JSON value");
    if (absl::Status s = ParseValue(out, 0); !s.ok()) return s;
    SkipWhitespace();
    if (p_ != end_) return Error("unexpected content after the JSON value");
    return absl::OkStatus();
  }

 private:
  absl::Status Error(std::string_view what) const { return ErrorAt(p_, what); }

  absl::Status ErrorAt(const char* at, std::string_view what) const {
    // Column in bytes from the start of the line, 1-based. `at` is never before line_start_ except
    // for errors reported at a string's opening quote on an earlier line, which cannot happen because
    // raw newlines inside strings are errors themselves.
    const long column = (at >= line_start_ ? at - line_start_ : 0) + 1;
    return absl::InvalidArgumentError(absl::StrCat("line ", line_, ", column ", column, ": ",
                                                   absl::string_view(what.data(), what.size())));
  }

  void SkipWhitespace() {
    while (p_ < end_) {
      const char c = *p_;
      if (c == '\n') {
        ++line_;
        line_start_ = ++p_;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++p_;
      } else {
        break;
      }
    }
  }

  absl::Status ParseValue(Value* out, int depth) {
    if (p_ == end_) return Error("unexpected end of input, expected a value");
    switch (*p_) {
      case '{':
        return ParseObject(out, depth + 1);
      case '[':
        return ParseArray(out, depth + 1);
      case '"': {
        std::string s;
        if (absl::Status st = ParseString(out ? &s : nullptr); !st.ok()) return st;
        if (out) out->set_string_value(std::move(s));
        return absl::OkStatus();
      }
      case 't':
        return ParseLiteral("true", out, [](Value* v) { v->set_bool_value(true); });
      case 'f':
        return ParseLiteral("false", out, [](Value* v) { v->set_bool_value(false); });
      case 'n':
        return ParseLiteral("null", out,
                            [](Value* v) { v->set_null_value(google::protobuf::NULL_VALUE); });
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return ParseNumber(out);
        return Error(absl::StrCat("unexpected character '", CharForMessage(*p_),
                                  "', expected a value"));
    }
  }

  static std::string CharForMessage(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) return std::string(1, c);
    return absl::StrCat("\\x", absl::Hex(u, absl::kZeroPad2));
  }

  template <typename SetFn>
  absl::Status ParseLiteral(std::string_view word, Value* out, SetFn set) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        std::string_view(p_, word.size()) != word) {
      return Error(absl::StrCat("invalid literal, expected '", absl::string_view(word.data(), word.size()), "'"));
    }
    p_ += word.size();
    if (out) set(out);
    return absl::OkStatus();
  }

  absl::Status ParseNumber(Value* out) {
    const char* start = p_;
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) return Error("invalid number: expected a digit");
    if (*p_ == '0') {
      ++p_;
      if (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
        return Error("invalid number: leading zeros are not allowed");
      }
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) {
        return Error("invalid number: expected a digit after '.'");
      }
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) {
        return Error("invalid number: expected a digit in the exponent");
      }
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    double value = 0;
    auto [ptr, ec] = std::from_chars(start, p_, value);
    if (ec == std::errc::result_out_of_range) {
      // from_chars leaves `value` untouched on overflow and underflow alike; strtod tells them
      // apart. Underflow to zero is harmless; overflow to infinity is not representable in JSON.
      const std::string copy(start, p_);
      value = std::strtod(copy.c_str(), nullptr);
      if (!std::isfinite(value)) return ErrorAt(start, "number out of range");
    } else if (ec != std::errc() || ptr != p_) {
      return ErrorAt(start, "invalid number");
    }
    if (out) out->set_number_value(value);
    return absl::OkStatus();
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  absl::Status ReadHex4(char32_t* cp) {
    if (end_ - p_ < 4) return Error("truncated \\u escape");
    char32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = HexDigit(p_[i]);
      if (d < 0) return Error("invalid hex digit in \\u escape");
      v = (v << 4) | static_cast<char32_t>(d);
    }
    p_ += 4;
    *cp = v;
    return absl::OkStatus();
  }

  // REQUIRES: *p_ == '"'. `out` may be null.
  absl::Status ParseString(std::string* out) {
    const char* open = p_;
    ++p_;
    const char* run = p_;  // Start of the current run of unescaped bytes.
    auto flush = [&](const char* upto) {
      if (out) out->append(run, upto - run);
    };
    while (true) {
      if (p_ == end_) return ErrorAt(open, "unterminated string");
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        flush(p_);
        // Validate the raw bytes between the quotes (escapes only produce valid UTF-8).
        const std::string_view raw(open + 1, p_ - open - 1);
        if (const size_t bad = FindInvalidUtf8(raw); bad != raw.size()) {
          return ErrorAt(open + 1 + bad, "string is not valid UTF-8");
        }
        ++p_;
        return absl::OkStatus();
      }
      if (c < 0x20) return Error("control character in string (must be escaped)");
      if (c != '\\') {
        ++p_;
        continue;
      }
      flush(p_);
      ++p_;
      if (p_ == end_) return ErrorAt(open, "unterminated string");
      const char e = *p_++;
      char plain = 0;
      switch (e) {
        case '"': plain = '"'; break;
        case '\\': plain = '\\'; break;
        case '/': plain = '/'; break;
        case 'b': plain = '\b'; break;
        case 'f': plain = '\f'; break;
        case 'n': plain = '\n'; break;
        case 'r': plain = '\r'; break;
        case 't': plain = '\t'; break;
        case 'u': {
          char32_t cp = 0;
          if (absl::Status s = ReadHex4(&cp); !s.ok()) return s;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Error("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
              return Error("high surrogate in \\u escape not followed by a low surrogate");
            }
            p_ += 2;
            char32_t low = 0;
            if (absl::Status s = ReadHex4(&low); !s.ok()) return s;
            if (low < 0xDC00 || low > 0xDFFF) {
              return Error("high surrogate in \\u escape not followed by a low surrogate");
            }
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          if (out) AppendUtf8(cp, out);
          break;
        }
        default:
          return ErrorAt(p_ - 2, absl::StrCat("invalid escape '\\", CharForMessage(e), "'"));
      }
      if (plain && out) out->push_back(plain);
      run = p_;
    }
  }

  absl::Status ParseArray(Value* out, int depth) {
    if (depth > max_depth_) return Error(absl::StrCat("nesting deeper than ", max_depth_, " levels"));
    ++p_;  // '['
    google::protobuf::ListValue* list = out ? out->mutable_list_value() : nullptr;
    SkipWhitespace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return absl::OkStatus();
    }
    while (true) {
      SkipWhitespace();
      if (absl::Status s = ParseValue(list ? list->add_values() : nullptr, depth); !s.ok()) return s;
      SkipWhitespace();
      if (p_ == end_) return Error("unexpected end of input, expected ',' or ']'");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == ']') {
        ++p_;
        return absl::OkStatus();
      }
      return Error("expected ',' or ']' in an array");
    }
  }

  absl::Status ParseObject(Value* out, int depth) {
    if (depth > max_depth_) return Error(absl::StrCat("nesting deeper than ", max_depth_, " levels"));
    ++p_;  // '{'
    google::protobuf::Struct* obj = out ? out->mutable_struct_value() : nullptr;
    SkipWhitespace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return absl::OkStatus();
    }
    std::string key;
    while (true) {
      SkipWhitespace();
      if (p_ == end_) return Error("unexpected end of input, expected an object key");
      if (*p_ != '"') return Error("expected a string as object key");
      key.clear();
      if (absl::Status s = ParseString(obj ? &key : nullptr); !s.ok()) return s;
      SkipWhitespace();
      if (p_ == end_ || *p_ != ':') return Error("expected ':' after an object key");
      ++p_;
      SkipWhitespace();
      Value* slot = nullptr;
      if (obj) {
        slot = &(*obj->mutable_fields())[key];
        slot->Clear();  // Duplicate key: the last one wins.
      }
      if (absl::Status s = ParseValue(slot, depth); !s.ok()) return s;
      SkipWhitespace();
      if (p_ == end_) return Error("unexpected end of input, expected ',' or '}'");
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ == '}') {
        ++p_;
        return absl::OkStatus();
      }
      return Error("expected ',' or '}' in an object");
    }
  }

  const char* p_;
  const char* end_;
  const char* line_start_;
  int line_;
  int max_depth_;
};

}  // namespace

absl::StatusOr<google::protobuf::Value> ParseJson(std::string_view text,
                                                  const JsonParseOptions& options) {
  Value value;
  Parser parser(text, options);
  if (absl::Status s = parser.ParseDocument(&value); !s.ok()) return s;
  return value;
}

absl::Status CheckJsonSyntax(std::string_view text, const JsonParseOptions& options) {
  Parser parser(text, options);
  return parser.ParseDocument(nullptr);
}

namespace {

// The end of the JSON value starting at s[i]. REQUIRES: well-formed JSON (it was parsed).
size_t SkipValue(std::string_view s, size_t i) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\') ++i;
      }
      if (depth == 0) return i + 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (depth == 0) return i;  // The end of the enclosing container: a scalar ended.
      if (--depth == 0) return i + 1;
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
      return i;
    }
  }
  return i;
}

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

}  // namespace

std::vector<size_t> JsonListElementSizes(std::string_view json) {
  std::vector<size_t> sizes;
  auto elements = [&](size_t i) {  // At '['.
    sizes.clear();
    for (i = SkipSpace(json, i + 1); i < json.size() && json[i] != ']';) {
      const size_t end = SkipValue(json, i);
      sizes.push_back(end - i);
      i = SkipSpace(json, end);
      if (i < json.size() && json[i] == ',') i = SkipSpace(json, i + 1);
    }
  };
  size_t i = SkipSpace(json, 0);
  if (i < json.size() && json[i] == '[') {
    elements(i);
  } else if (i < json.size() && json[i] == '{') {
    for (i = SkipSpace(json, i + 1); i < json.size() && json[i] == '"';) {
      const size_t key_end = SkipValue(json, i);
      const bool batch = json.substr(i, key_end - i) == "\"batch\"";
      i = SkipSpace(json, SkipSpace(json, key_end) + 1);  // Past ':'.
      if (batch && i < json.size() && json[i] == '[') elements(i);
      i = SkipSpace(json, SkipValue(json, i));
      if (i < json.size() && json[i] == ',') i = SkipSpace(json, i + 1);
    }
  }
  return sizes;
}

}  // namespace omnijourney::internal
