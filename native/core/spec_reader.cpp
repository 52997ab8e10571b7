#include "spec_reader.hpp"

#include <charconv>
#include <cmath>

#include "preprocess_plan.hpp"

namespace infergate::spec {

namespace {

constexpr std::size_t kQuoteLimit = 80;  // bytes of a string shown in a message

std::string join_quoted(std::initializer_list<std::string_view> items) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) out += ", ";
    out += quote(item);
  }
  return out;
}

}  // namespace

std::string quote(std::string_view s) {
  bool shortened = false;
  if (s.size() > kQuoteLimit) {
    std::size_t cut = kQuoteLimit;
    // Never cut inside a UTF-8 sequence: step back over continuation bytes.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0u) == 0x80u) --cut;
    s = s.substr(0, cut);
    shortened = true;
  }
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c == 0x7f) {
      static const char* hex = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  if (shortened) out += "...";
  return out + "\"";
}

std::string number_text(double d) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

std::string indexed(std::string_view name, std::size_t i) {
  // Appended piecewise: GCC 12 reports a false -Wrestrict on "[" + std::to_string(i) + "]".
  std::string out(name);
  out += '[';
  out += std::to_string(i);
  out += ']';
  return out;
}

void fail(const std::string& where, const std::string& what) {
  throw preprocess::PlanError(where + ": " + what);
}

ObjectReader::ObjectReader(const json::Value& value, std::string where,
                           std::initializer_list<std::string_view> allowed, std::string_view noun,
                           std::string_view quiet)
    : object_(nullptr), where_(std::move(where)), noun_(noun) {
  if (!value.is_object()) fail(where_, std::string("expected an object, got ") + json::describe(value.type()));
  object_ = &value.as_object();
  for (const json::Member& m : *object_) {
    bool known = !quiet.empty() && m.key == quiet;
    for (std::string_view a : allowed) known = known || m.key == a;
    if (!known) {
      std::string hint = allowed.size() == 0 ? std::string(" (it takes none)")
                                             : " (expected " + join_quoted(allowed) + ")";
      fail(where_, "unknown " + noun_ + " " + quote(m.key) + hint);
    }
  }
}

const json::Value* ObjectReader::optional(std::string_view key) const noexcept {
  for (const json::Member& m : *object_) {
    if (m.key == key) return &m.value;
  }
  return nullptr;
}

const json::Value& ObjectReader::required(std::string_view key) const {
  const json::Value* v = optional(key);
  if (v == nullptr) fail(where_, "missing " + name(key));
  return *v;
}

const std::string& ObjectReader::string(std::string_view key) const {
  const json::Value& v = required(key);
  if (!v.is_string()) fail(where_, name(key) + " must be a string, got " + json::describe(v.type()));
  return v.as_string();
}

double ObjectReader::number(std::string_view key) const {
  const json::Value& v = required(key);
  // JSON cannot spell NaN or Infinity, but a Value built in code can hold them.
  if (!v.is_number() || !std::isfinite(v.as_number())) fail(where_, name(key) + " must be a finite number");
  return v.as_number();
}

std::size_t ObjectReader::choice(std::string_view key, std::initializer_list<std::string_view> choices) const {
  const json::Value& v = required(key);
  if (v.is_string()) {
    std::size_t i = 0;
    for (std::string_view c : choices) {
      if (v.as_string() == c) return i;
      ++i;
    }
  }
  std::string got = v.is_string() ? quote(v.as_string()) : json::describe(v.type());
  fail(where_, name(key) + " must be one of " + join_quoted(choices) + ", got " + got);
}

std::string ObjectReader::name(std::string_view key) const { return noun_ + " " + quote(key); }

}  // namespace infergate::spec
