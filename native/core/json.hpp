// A small, strict JSON reader (RFC 8259) for specs that must not be misread.
//
// Strict means: UTF-8 input only (validated), no comments, no trailing commas, no trailing garbage,
// no NaN/Infinity, no duplicate keys in an object, and a bound on nesting depth so hostile input cannot
// exhaust the stack. Numbers are parsed with std::from_chars, so "0.1" becomes exactly the double
// nearest to 0.1, the same one Python's json module and JavaScript produce.
//
// Objects keep their keys in document order: the preprocessing plan depends on it (a string field's
// vocabulary is in first-seen order, lookup tables included).
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace infergate::json {

// A syntax error. what() reads "invalid JSON at byte <offset>: <reason>"; offset() is the byte
// offset (0-based) into the parsed text where the problem was found.
class JsonError : public std::runtime_error {
 public:
  JsonError(std::size_t offset, const std::string& reason);
  std::size_t offset() const noexcept { return offset_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  std::size_t offset_;
  std::string reason_;
};

enum class Type { null, boolean, number, string, array, object };

// The JSON name of a type ("null", "a boolean", ...), for error messages.
const char* describe(Type type) noexcept;

struct Member;

class Value {
 public:
  using Array = std::vector<Value>;
  using Object = std::vector<Member>;  // document order; keys are unique after parse()

  // Explicit, so that nothing converts to a Value by accident (a std::string passed to an overload
  // set taking string_view or Value, a pointer taken for a bool).
  Value() noexcept : v_(nullptr) {}
  explicit Value(std::nullptr_t) noexcept : v_(nullptr) {}
  explicit Value(bool b) noexcept : v_(b) {}
  explicit Value(double d) noexcept : v_(d) {}
  explicit Value(std::string s) : v_(std::move(s)) {}
  explicit Value(const char* s) : v_(std::string(s)) {}
  explicit Value(Array a) : v_(std::move(a)) {}
  explicit Value(Object o) : v_(std::move(o)) {}

  Type type() const noexcept { return static_cast<Type>(v_.index()); }
  bool is_null() const noexcept { return type() == Type::null; }
  bool is_bool() const noexcept { return type() == Type::boolean; }
  bool is_number() const noexcept { return type() == Type::number; }
  bool is_string() const noexcept { return type() == Type::string; }
  bool is_array() const noexcept { return type() == Type::array; }
  bool is_object() const noexcept { return type() == Type::object; }

  // Accessors throw std::bad_variant_access on a type mismatch: check the type first.
  bool as_bool() const { return std::get<bool>(v_); }
  double as_number() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Array& as_array() { return std::get<Array>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  // The member named `key` of an object, or nullptr (also when this is not an object).
  const Value* find(std::string_view key) const noexcept;

 private:
  // The order of alternatives matches enum Type.
  std::variant<std::nullptr_t, bool, double, std::string, Array, Object> v_;
};

struct Member {
  std::string key;
  Value value;
};

struct ParseOptions {
  // Maximum nesting of arrays and objects; the outermost container is depth 1.
  std::size_t max_depth = 64;
};

// Parses exactly one JSON value that spans all of `text` (whitespace around it is allowed).
// Throws JsonError.
Value parse(std::string_view text, const ParseOptions& options = {});

}  // namespace infergate::json
