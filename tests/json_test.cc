#include "common/json.h"

#include <random>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney::internal {
namespace {

using ::testing::HasSubstr;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

TEST(JsonTest, ParsesAllValueKinds) {
  auto v = ParseJson(R"({"s":"x","n":-1.5e2,"t":true,"f":false,"z":null,"a":[1,{"b":[]}],"o":{}})");
  ASSERT_TRUE(v.ok()) << v.status();
  const auto& f = v->struct_value().fields();
  EXPECT_EQ(f.at("s").string_value(), "x");
  EXPECT_EQ(f.at("n").number_value(), -150);
  EXPECT_TRUE(f.at("t").bool_value());
  EXPECT_FALSE(f.at("f").bool_value());
  EXPECT_EQ(f.at("z").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(f.at("a").list_value().values_size(), 2);
  EXPECT_EQ(f.at("a").list_value().values(1).struct_value().fields().at("b").list_value().values_size(), 0);
  EXPECT_EQ(f.at("o").struct_value().fields_size(), 0);
}

TEST(JsonTest, IntegersUpTo2Pow53AreExact) {
  auto v = ParseJson("9007199254740992");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(static_cast<long long>(v->number_value()), 9007199254740992LL);
}

TEST(JsonTest, DecodesEscapesAndSurrogatePairs) {
  auto v = ParseJson(R"("a\"b\\c\/d\b\f\n\r\t \u00e9 \ud83d\ude00 \u20AC")");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->string_value(), "a\"b\\c/d\b\f\n\r\t \xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC");
}

TEST(JsonTest, KeepsRawUtf8) {
  auto v = ParseJson("\"Dobr\xC3\xBD den \xF0\x9F\x91\x8B\"");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->string_value(), "Dobr\xC3\xBD den \xF0\x9F\x91\x8B");
}

TEST(JsonTest, DuplicateKeyLastWins) {
  auto v = ParseJson(R"({"k":{"x":1},"k":"second"})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->struct_value().fields().at("k").string_value(), "second");
}

TEST(JsonTest, ErrorsCarryLineAndColumn) {
  auto v = ParseJson("{\n  \"a\": 1,\n  \"b\" 2\n}");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Msg(v.status()), "line 3, column 7: expected ':' after an object key");
}

TEST(JsonTest, FirstLineOffsetsLineNumbers) {
  JsonParseOptions options;
  options.first_line = 41;
  auto v = ParseJson("{\"a\":tru}", options);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(Msg(v.status()), HasSubstr("line 41, column 6"));
}

struct BadCase {
  const char* input;
  const char* message;
};

// Test names show the expected message, not the raw (possibly binary) input.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.message; }

class JsonBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(JsonBadInputTest, GivesClearError) {
  auto v = ParseJson(GetParam().input);
  ASSERT_FALSE(v.ok()) << GetParam().input;
  EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Msg(v.status()), HasSubstr(GetParam().message));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, JsonBadInputTest,
    ::testing::Values(BadCase{"", "empty input"}, BadCase{"   \n ", "empty input"},
                      BadCase{"{", "expected an object key"}, BadCase{"[1,2", "expected ',' or ']'"},
                      BadCase{"{\"a\":1,}", "expected a string as object key"},
                      BadCase{"[1,]", "unexpected character ']'"}, BadCase{"01", "leading zeros"},
                      BadCase{"1.", "digit after '.'"}, BadCase{"1e", "exponent"},
                      BadCase{"-", "expected a digit"}, BadCase{"1e999", "out of range"},
                      BadCase{"\"abc", "unterminated string"}, BadCase{"\"a\nb\"", "control character"},
                      BadCase{"\"\\x\"", "invalid escape"}, BadCase{"\"\\u12G4\"", "invalid hex digit"},
                      BadCase{"\"\\u12\"", "truncated \\u escape"},
                      BadCase{"\"\\ud800\"", "not followed by a low surrogate"},
                      BadCase{"\"\\udc00\"", "lone low surrogate"},
                      BadCase{"\"\xC3\x28\"", "not valid UTF-8"}, BadCase{"\"\xED\xA0\x80\"", "not valid UTF-8"},
                      BadCase{"\"\xC0\xAF\"", "not valid UTF-8"}, BadCase{"nul", "expected 'null'"},
                      BadCase{"{} {}", "unexpected content after"}, BadCase{"'a'", "unexpected character"},
                      BadCase{"NaN", "unexpected character"}, BadCase{"\x01", "\\x01"}));

TEST(JsonTest, NestingLimitIsAnErrorNotARecursionCrash) {
  std::string deep(100000, '[');
  auto v = ParseJson(deep);
  ASSERT_FALSE(v.ok());
  EXPECT_THAT(Msg(v.status()), HasSubstr("nesting deeper than 64 levels"));

  JsonParseOptions options;
  options.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[1]]]", options).ok());
  EXPECT_FALSE(ParseJson("[[[[1]]]]", options).ok());
  EXPECT_FALSE(ParseJson(R"({"a":{"b":{"c":{}}}})", options).ok());
}

TEST(JsonTest, EveryPrefixOfADocumentIsHandled) {
  const std::string doc =
      R"({"type":"track","event":"Caf\u00e9 \ud83d\ude00","n":[1,-2.5e-3,true,false,null],"o":{"k":"v"}})";
  ASSERT_TRUE(ParseJson(doc).ok());
  for (size_t n = 0; n < doc.size(); ++n) {
    auto v = ParseJson(doc.substr(0, n));
    EXPECT_FALSE(v.ok()) << "prefix of length " << n << " parsed";
  }
}

TEST(JsonTest, RandomMutationsNeverCrashAndAgreeWithSyntaxCheck) {
  const std::string doc = R"({"a":[1,2,{"b":"c\u0041"}],"d":-0.5e+2,"e":"\u00e9x","f":null})";
  std::mt19937 rng(12345);
  const std::string alphabet = "{}[]\",:\\u0123456789abcdefeE+-. \n\t\x80\xC3\xFF";
  for (int i = 0; i < 20000; ++i) {
    std::string s = doc;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = alphabet[rng() % alphabet.size()]; break;
        case 1: s.erase(pos, 1); break;
        default: s.insert(pos, 1, alphabet[rng() % alphabet.size()]); break;
      }
      if (s.empty()) s = "x";
    }
    auto full = ParseJson(s);
    auto syntax = CheckJsonSyntax(s);
    ASSERT_EQ(full.ok(), syntax.ok()) << s;
    if (!full.ok()) {
      ASSERT_EQ(full.status(), syntax) << s;
    }
  }
}

}  // namespace
}  // namespace omnijourney::internal
