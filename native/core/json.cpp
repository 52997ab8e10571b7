// Recursive-descent parser for json.hpp. Every error carries the byte offset where it was detected.
#include "json.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <numeric>
#include <system_error>

namespace infergate::json {

JsonError::JsonError(std::size_t offset, const std::string& reason)
    : std::runtime_error("invalid JSON at byte " + std::to_string(offset) + ": " + reason),
      offset_(offset),
      reason_(reason) {}

const char* describe(Type type) noexcept {
  switch (type) {
    case Type::null: return "null";
    case Type::boolean: return "a boolean";
    case Type::number: return "a number";
    case Type::string: return "a string";
    case Type::array: return "an array";
    case Type::object: return "an object";
  }
  return "?";
}

const Value* Value::find(std::string_view key) const noexcept {
  if (!is_object()) return nullptr;
  for (const Member& m : std::get<Object>(v_)) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// How a byte is shown in an error message: 'x' when printable ASCII, else 0xNN.
std::string show_byte(unsigned char c) {
  if (c >= 0x21 && c <= 0x7e) return std::string("'") + static_cast<char>(c) + "'";
  static const char* hex = "0123456789ABCDEF";
  return std::string("byte 0x") + hex[c >> 4] + hex[c & 15];
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// from_chars reports both overflow and underflow as result_out_of_range. Underflow has a correct
// answer (zero, keeping the sign); overflow has none. `text` is a number already checked against the
// JSON grammar; this tells whether its magnitude is below 1, i.e. whether out-of-range means underflow.
bool magnitude_below_one(std::string_view text) {
  std::size_t i = 0;
  if (text[i] == '-') ++i;
  long long lead;  // decimal exponent of the first significant digit, before the 'e' part
  if (text[i] != '0') {
    std::size_t start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    lead = static_cast<long long>(i - start) - 1;
  } else {
    ++i;  // the single leading zero; then ".000ddd"
    long long zeros = 0;
    if (i < text.size() && text[i] == '.') {
      ++i;
      while (i < text.size() && text[i] == '0') {
        ++zeros;
        ++i;
      }
    }
    lead = -(zeros + 1);
  }
  std::size_t e = text.find_first_of("eE");
  long long exp = 0;
  if (e != std::string_view::npos) {
    std::size_t j = e + 1;
    bool negative = false;
    if (text[j] == '+' || text[j] == '-') negative = text[j++] == '-';
    for (; j < text.size(); ++j) {
      exp = std::min<long long>(exp * 10 + (text[j] - '0'), 1'000'000'000LL);  // saturate
    }
    if (negative) exp = -exp;
  }
  return lead + exp < 0;
}

class Parser {
 public:
  Parser(std::string_view text, const ParseOptions& options) : s_(text), max_depth_(options.max_depth) {}

  Value parse_document() {
    if (s_.size() >= 3 && s_.substr(0, 3) == "\xEF\xBB\xBF") {
      fail(0, "byte order mark (U+FEFF) at the start; save the file as UTF-8 without BOM");
    }
    skip_ws();
    Value v = parse_value();
    skip_ws();
    if (pos_ != s_.size()) fail(pos_, "unexpected " + show_byte(byte()) + " after the JSON value");
    return v;
  }

 private:
  [[noreturn]] static void fail(std::size_t at, const std::string& reason) { throw JsonError(at, reason); }

  bool at_end() const noexcept { return pos_ >= s_.size(); }
  unsigned char byte() const noexcept { return static_cast<unsigned char>(s_[pos_]); }

  void skip_ws() noexcept {
    while (!at_end()) {
      char c = s_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  Value parse_value() {
    if (at_end()) fail(pos_, "unexpected end of input, expected a value");
    switch (s_[pos_]) {
      case '{': return parse_object();
      case '[': return parse_array();
      case '"': return Value(parse_string());
      case 't': expect_literal("true"); return Value(true);
      case 'f': expect_literal("false"); return Value(false);
      case 'n': expect_literal("null"); return Value(nullptr);
      default:
        if (s_[pos_] == '-' || is_digit(s_[pos_])) return Value(parse_number());
        fail(pos_, "unexpected " + show_byte(byte()) + ", expected a value");
    }
  }

  void expect_literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) fail(pos_, "invalid literal, expected '" + std::string(word) + "'");
    pos_ += word.size();
  }

  void enter(std::size_t at) {
    if (++depth_ > max_depth_) fail(at, "nesting deeper than " + std::to_string(max_depth_) + " levels");
  }

  Value parse_array() {
    enter(pos_);
    ++pos_;  // '['
    Value::Array items;
    skip_ws();
    if (!at_end() && s_[pos_] == ']') {
      ++pos_;
      --depth_;
      return Value(std::move(items));
    }
    for (;;) {
      skip_ws();
      items.push_back(parse_value());
      skip_ws();
      if (at_end()) fail(pos_, "unexpected end of input in an array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        break;
      }
      fail(pos_, "unexpected " + show_byte(byte()) + ", expected ',' or ']'");
    }
    --depth_;
    return Value(std::move(items));
  }

  Value parse_object() {
    enter(pos_);
    ++pos_;  // '{'
    Value::Object members;
    std::vector<std::size_t> key_offsets;
    skip_ws();
    if (!at_end() && s_[pos_] == '}') {
      ++pos_;
      --depth_;
      return Value(std::move(members));
    }
    for (;;) {
      skip_ws();
      if (at_end()) fail(pos_, "unexpected end of input in an object");
      if (s_[pos_] != '"') fail(pos_, "unexpected " + show_byte(byte()) + ", expected a string key");
      key_offsets.push_back(pos_);
      std::string key = parse_string();
      skip_ws();
      if (at_end() || s_[pos_] != ':') fail(pos_, "expected ':' after an object key");
      ++pos_;
      skip_ws();
      Value v = parse_value();
      members.push_back(Member{std::move(key), std::move(v)});
      skip_ws();
      if (at_end()) fail(pos_, "unexpected end of input in an object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        break;
      }
      fail(pos_, "unexpected " + show_byte(byte()) + ", expected ',' or '}'");
    }
    check_duplicates(members, key_offsets);
    --depth_;
    return Value(std::move(members));
  }

  // Sorting indices keeps this O(n log n) for large lookup tables. Reports the first repeat in
  // document order, at the offset of that repeated key.
  static void check_duplicates(const Value::Object& members, const std::vector<std::size_t>& offsets) {
    if (members.size() < 2) return;
    std::vector<std::size_t> order(members.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return members[a].key < members[b].key; });
    std::size_t first_repeat = members.size();
    for (std::size_t i = 1; i < order.size(); ++i) {
      if (members[order[i]].key == members[order[i - 1]].key) first_repeat = std::min(first_repeat, order[i]);
    }
    if (first_repeat != members.size()) {
      fail(offsets[first_repeat], "duplicate key \"" + members[first_repeat].key + "\"");
    }
  }

  std::uint32_t parse_hex4() {
    if (s_.size() - pos_ < 4) fail(pos_, "incomplete \\u escape");
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_];
      std::uint32_t d;
      if (c >= '0' && c <= '9') {
        d = static_cast<std::uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<std::uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<std::uint32_t>(c - 'A' + 10);
      } else {
        fail(pos_, "invalid hex digit in \\u escape");
      }
      v = (v << 4) | d;
      ++pos_;
    }
    return v;
  }

  // pos_ is at the backslash.
  void parse_escape(std::string& out) {
    std::size_t start = pos_;
    ++pos_;
    if (at_end()) fail(start, "unterminated escape");
    char c = s_[pos_++];
    switch (c) {
      case '"': out.push_back('"'); return;
      case '\\': out.push_back('\\'); return;
      case '/': out.push_back('/'); return;
      case 'b': out.push_back('\b'); return;
      case 'f': out.push_back('\f'); return;
      case 'n': out.push_back('\n'); return;
      case 'r': out.push_back('\r'); return;
      case 't': out.push_back('\t'); return;
      case 'u': break;
      default: fail(start, "invalid escape: backslash followed by " + show_byte(static_cast<unsigned char>(c)));
    }
    std::uint32_t cp = parse_hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) fail(start, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low surrogate: together one code point.
      if (s_.substr(pos_, 2) != "\\u") fail(start, "high surrogate not followed by a \\u low surrogate");
      pos_ += 2;
      std::uint32_t low = parse_hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail(start, "high surrogate not followed by a low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    append_utf8(out, cp);
  }

  // Length of the well-formed UTF-8 sequence starting at pos_ (a byte >= 0x80), or 0.
  // Rejects overlong forms, surrogates and code points above U+10FFFF.
  std::size_t utf8_length() const noexcept {
    auto at = [&](std::size_t k) -> unsigned {
      return pos_ + k < s_.size() ? static_cast<unsigned char>(s_[pos_ + k]) : 0u;
    };
    auto cont = [&](std::size_t k) { return (at(k) & 0xC0u) == 0x80u; };
    unsigned b = at(0);
    if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
    if (b >= 0xE0 && b <= 0xEF) {
      unsigned lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
      return at(1) >= lo && at(1) <= hi && cont(2) ? 3 : 0;
    }
    if (b >= 0xF0 && b <= 0xF4) {
      unsigned lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
      return at(1) >= lo && at(1) <= hi && cont(2) && cont(3) ? 4 : 0;
    }
    return 0;
  }

  std::string parse_string() {
    std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      // Copy a run of plain bytes at once.
      std::size_t run = pos_;
      while (run < s_.size()) {
        unsigned char c = static_cast<unsigned char>(s_[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      out.append(s_.data() + pos_, run - pos_);
      pos_ = run;
      if (at_end()) fail(start, "unterminated string");
      unsigned char c = byte();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        parse_escape(out);
      } else if (c < 0x20) {
        fail(pos_, "unescaped control character " + show_byte(c) + " in a string");
      } else {
        std::size_t n = utf8_length();
        if (n == 0) fail(pos_, "invalid UTF-8 " + show_byte(c) + " in a string");
        out.append(s_.data() + pos_, n);
        pos_ += n;
      }
    }
  }

  double parse_number() {
    std::size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (at_end() || !is_digit(s_[pos_])) fail(start, "invalid number: expected a digit after '-'");
    if (s_[pos_] == '0') {
      ++pos_;
      if (!at_end() && is_digit(s_[pos_])) fail(start, "invalid number: leading zeros are not allowed");
    } else {
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
    }
    if (!at_end() && s_[pos_] == '.') {
      ++pos_;
      if (at_end() || !is_digit(s_[pos_])) fail(start, "invalid number: expected a digit after '.'");
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
    }
    if (!at_end() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!at_end() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (at_end() || !is_digit(s_[pos_])) fail(start, "invalid number: expected a digit in the exponent");
      while (!at_end() && is_digit(s_[pos_])) ++pos_;
    }
    std::string_view text = s_.substr(start, pos_ - start);
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) {
      if (!magnitude_below_one(text)) fail(start, "number " + std::string(text) + " is too large for a double");
      return text[0] == '-' ? -0.0 : 0.0;  // underflow: the correctly rounded value is zero
    }
    if (ec != std::errc() || end != text.data() + text.size()) fail(start, "invalid number");
    return value;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  std::size_t depth_ = 0;
  std::size_t max_depth_;
};

}  // namespace

Value parse(std::string_view text, const ParseOptions& options) {
  return Parser(text, options).parse_document();
}

}  // namespace infergate::json
