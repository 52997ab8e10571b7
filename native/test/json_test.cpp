// The strict JSON reader: what it accepts, what it refuses, and where it says the problem is.
#include <gtest/gtest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>

#include "core/json.hpp"

namespace json = infergate::json;

namespace {

// The byte offset of the JsonError that parsing `text` throws, or SIZE_MAX (and a test failure).
std::size_t error_offset(std::string_view text, const json::ParseOptions& options = {}) {
  try {
    json::parse(text, options);
  } catch (const json::JsonError& e) {
    return e.offset();
  }
  ADD_FAILURE() << "expected a JsonError for: " << text;
  return SIZE_MAX;
}

std::string error_reason(std::string_view text) {
  try {
    json::parse(text);
  } catch (const json::JsonError& e) {
    return e.reason();
  }
  ADD_FAILURE() << "expected a JsonError for: " << text;
  return {};
}

std::string parse_string(std::string_view text) { return json::parse(text).as_string(); }

}  // namespace

TEST(Json, ParsesScalars) {
  EXPECT_TRUE(json::parse("null").is_null());
  EXPECT_TRUE(json::parse("true").as_bool());
  EXPECT_FALSE(json::parse("false").as_bool());
  EXPECT_EQ(json::parse("42").as_number(), 42.0);
  EXPECT_EQ(json::parse("\"hi\"").as_string(), "hi");
  EXPECT_EQ(json::parse(" \t\r\n 7 \n").as_number(), 7.0);  // whitespace around the value
}

TEST(Json, ObjectsKeepDocumentOrder) {
  json::Value v = json::parse(R"({"z": 1, "a": [true, null, "s"], "m": {"k": -2.5}})");
  ASSERT_TRUE(v.is_object());
  const auto& o = v.as_object();
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o[0].key, "z");
  EXPECT_EQ(o[1].key, "a");
  EXPECT_EQ(o[2].key, "m");
  EXPECT_EQ(v.find("a")->as_array().size(), 3u);
  EXPECT_TRUE(v.find("a")->as_array()[1].is_null());
  EXPECT_EQ(v.find("m")->find("k")->as_number(), -2.5);
  EXPECT_EQ(v.find("nope"), nullptr);
  EXPECT_EQ(json::parse("[1]").find("a"), nullptr);  // not an object
  EXPECT_TRUE(json::parse("{}").as_object().empty());
  EXPECT_TRUE(json::parse("[ ]").as_array().empty());
}

TEST(Json, SimpleEscapes) {
  EXPECT_EQ(parse_string(R"("\" \\ \/ \b \f \n \r \t")"), "\" \\ / \b \f \n \r \t");
}

TEST(Json, UnicodeEscapesBecomeUtf8) {
  EXPECT_EQ(parse_string(R"("\u0041")"), "A");
  EXPECT_EQ(parse_string(R"("\u00e9")"), "\xC3\xA9");          // é, 2 bytes
  EXPECT_EQ(parse_string(R"("\u20AC")"), "\xE2\x82\xAC");      // €, 3 bytes
  EXPECT_EQ(parse_string(R"("\uD83D\uDE00")"), "\xF0\x9F\x98\x80");  // 😀 from a surrogate pair
  EXPECT_EQ(parse_string(R"("\uDBFF\uDFFF")"), "\xF4\x8F\xBF\xBF");  // U+10FFFF, the last code point
  std::string nul = parse_string(R"("a\u0000b")");
  EXPECT_EQ(nul, std::string("a\0b", 3));
}

TEST(Json, RawUtf8IsValidated) {
  EXPECT_EQ(parse_string("\"caf\xC3\xA9 \xF0\x9F\x98\x80\""), "caf\xC3\xA9 \xF0\x9F\x98\x80");
  EXPECT_EQ(error_offset("\"a\x80\""), 2u);              // stray continuation byte
  EXPECT_EQ(error_offset("\"\xC0\xAF\""), 1u);           // overlong '/'
  EXPECT_EQ(error_offset("\"\xE0\x80\xAF\""), 1u);       // overlong, 3 bytes
  EXPECT_EQ(error_offset("\"\xED\xA0\x80\""), 1u);       // an encoded surrogate
  EXPECT_EQ(error_offset("\"\xF4\x90\x80\x80\""), 1u);   // above U+10FFFF
  EXPECT_EQ(error_offset("\"\xF5\x80\x80\x80\""), 1u);
  EXPECT_EQ(error_offset("\"\xE2\x82\""), 1u);           // truncated sequence
  EXPECT_EQ(error_offset("\xC3\xA9"), 0u);               // non-ASCII outside a string
}

TEST(Json, RefusesBadEscapesAndControlCharacters) {
  EXPECT_EQ(error_offset(R"("ab\x")"), 3u);
  EXPECT_EQ(error_offset(R"("\u12G4")"), 5u);
  EXPECT_EQ(error_offset(R"("\u12")"), 3u);
  EXPECT_EQ(error_offset(R"("\uD83D")"), 1u);         // lone high surrogate
  EXPECT_EQ(error_offset(R"("\uD83Dx")"), 1u);
  EXPECT_EQ(error_offset(R"("\uD83D\u0041")"), 1u);   // high surrogate + non-surrogate
  EXPECT_EQ(error_offset(R"("\uDE00")"), 1u);         // lone low surrogate
  EXPECT_EQ(error_offset("\"a\tb\""), 2u);            // raw tab must be escaped
  EXPECT_EQ(error_offset(std::string_view("\"a\0b\"", 5)), 2u);
  EXPECT_EQ(error_offset("\"abc"), 0u);               // unterminated, reported at its start
  EXPECT_EQ(error_offset("\"abc\\"), 4u);
}

TEST(Json, NumbersFollowTheGrammar) {
  EXPECT_EQ(json::parse("0").as_number(), 0.0);
  EXPECT_TRUE(std::signbit(json::parse("-0").as_number()));
  EXPECT_EQ(json::parse("-12.5e+2").as_number(), -1250.0);
  EXPECT_EQ(json::parse("1E-2").as_number(), 0.01);
  for (const char* bad : {"01", "-01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity",
                          "1.e3", "--1", "1_000"}) {
    EXPECT_NO_FATAL_FAILURE(error_offset(bad)) << bad;
  }
}

TEST(Json, NumbersAreTheNearestDouble) {
  EXPECT_EQ(json::parse("0.1").as_number(), 0.1);
  EXPECT_EQ(json::parse("3.71").as_number(), 3.71);
  EXPECT_EQ(json::parse("1.7976931348623157e308").as_number(), 1.7976931348623157e308);
  EXPECT_EQ(json::parse("2.2250738585072014e-308").as_number(), 2.2250738585072014e-308);  // smallest normal
  EXPECT_EQ(json::parse("5e-324").as_number(), 4.9406564584124654e-324);                   // smallest subnormal
  // Halfway cases round to even: 2^53 + 1 is not a double.
  EXPECT_EQ(json::parse("9007199254740993").as_number(), 9007199254740992.0);
  // Many digits, still correctly rounded.
  EXPECT_EQ(json::parse("0.1000000000000000055511151231257827021181583404541015625").as_number(), 0.1);
}

TEST(Json, NumbersRoundTripBitForBit) {
  std::mt19937_64 rng(12345);
  int checked = 0;
  while (checked < 20000) {
    double d = std::bit_cast<double>(rng());
    if (!std::isfinite(d)) continue;
    char buf[40];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
    ASSERT_EQ(ec, std::errc());
    std::string text(buf, end);
    double back = json::parse(text).as_number();
    ASSERT_EQ(std::bit_cast<std::uint64_t>(back), std::bit_cast<std::uint64_t>(d)) << text;
    ++checked;
  }
}

TEST(Json, UnderflowIsZeroOverflowIsAnError) {
  double tiny = json::parse("1e-400").as_number();
  EXPECT_EQ(tiny, 0.0);
  EXPECT_FALSE(std::signbit(tiny));
  EXPECT_TRUE(std::signbit(json::parse("-1e-400").as_number()));
  EXPECT_EQ(json::parse("0.0000000000000000000000000000000000000001e-300").as_number(), 0.0);
  EXPECT_EQ(json::parse("2e-324").as_number(), 0.0);
  EXPECT_EQ(error_offset("[1, 1e400]"), 4u);
  EXPECT_EQ(error_offset("-1e400"), 0u);
  EXPECT_EQ(error_offset("1.7976931348623159e308"), 0u);  // rounds past DBL_MAX
  EXPECT_EQ(error_offset("1000e99999999999999999999"), 0u);
  EXPECT_EQ(error_reason("1e400"), "number 1e400 is too large for a double");
}

TEST(Json, RefusesTrailingGarbageAndIncompleteInput) {
  EXPECT_EQ(error_offset("1 2"), 2u);
  EXPECT_EQ(error_offset("{} x"), 3u);
  EXPECT_EQ(error_offset("[1,]"), 3u);
  EXPECT_EQ(error_offset(R"({"a":1,})"), 7u);
  EXPECT_EQ(error_offset("[1 2]"), 3u);
  EXPECT_EQ(error_offset(R"({"a" 1})"), 5u);
  EXPECT_EQ(error_offset(R"({a: 1})"), 1u);
  EXPECT_EQ(error_offset("[1, 2,, 3]"), 6u);
  EXPECT_EQ(error_offset(""), 0u);
  EXPECT_EQ(error_offset("   "), 3u);
  EXPECT_EQ(error_offset("["), 1u);
  EXPECT_EQ(error_offset(R"({"a":)"), 5u);
  EXPECT_EQ(error_offset("tru"), 0u);
  EXPECT_EQ(error_offset("nul1"), 0u);
  EXPECT_EQ(error_offset("// c\n1"), 0u);  // no comments
  EXPECT_EQ(error_offset("\xEF\xBB\xBF{}"), 0u);  // no byte order mark
}

TEST(Json, ErrorMessageNamesTheByte) {
  try {
    json::parse("[1, 2,, 3]");
    FAIL();
  } catch (const json::JsonError& e) {
    EXPECT_STREQ(e.what(), "invalid JSON at byte 6: unexpected ',', expected a value");
  }
}

TEST(Json, DepthIsLimited) {
  auto nested = [](std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(json::parse(nested(64)).type(), json::Type::array);  // the default limit, reached
  EXPECT_EQ(error_offset(nested(65)), 64u);                       // one more: at the 65th '['
  EXPECT_EQ(error_offset(nested(100000)), 64u);                   // no stack overflow
  json::ParseOptions three{3};
  EXPECT_NO_THROW(json::parse(R"({"a": [{"b": 1}]})", three));
  EXPECT_EQ(error_offset(R"({"a": [{"b": [1]}]})", three), 13u);
  EXPECT_NO_THROW(json::parse("1", json::ParseOptions{0}));  // scalars have no depth
}

TEST(Json, RefusesDuplicateKeys) {
  EXPECT_EQ(error_offset(R"({"a": 1, "a": 2})"), 9u);
  EXPECT_EQ(error_reason(R"({"a": 1, "a": 2})"), "duplicate key \"a\"");
  EXPECT_EQ(error_offset(R"({"a": 1, "\u0061": 2})"), 9u);  // equal once unescaped
  EXPECT_EQ(error_offset(R"({"x": {"a": 1, "b": 2, "a": 3}})"), 23u);
  EXPECT_EQ(error_offset(R"({"b": 0, "a": 1, "b": 2, "a": 3})"), 17u);  // the first repeat in the text
  EXPECT_NO_THROW(json::parse(R"({"a": {"a": 1}, "b": {"a": 2}})"));    // same key, other objects
  EXPECT_NO_THROW(json::parse(R"({"a": 1, "A": 2, "a ": 3})"));
}

TEST(Json, LargeObjectsCheckDuplicatesQuickly) {
  std::string text = "{";
  for (int i = 0; i < 50000; ++i) text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  std::string ok = text + "\"end\": 0}";
  EXPECT_EQ(json::parse(ok).as_object().size(), 50001u);
  std::size_t at = text.size();
  EXPECT_EQ(error_offset(text + "\"k123\": 0}"), at);
}
