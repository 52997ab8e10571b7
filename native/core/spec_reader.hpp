// Helpers for reading a JSON spec strictly and reporting errors with their location.
//
// Every error message is "<where>: <what>", where <where> is a human path such as
//   features[2] (field "amount") steps[1] (standardize)
// Internal to native/core.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"

namespace infergate::spec {

// A string as it appears in a message: JSON-quoted and escaped, long strings shortened.
std::string quote(std::string_view s);

// A double as it appears in a message: the shortest text that reads back as the same double.
std::string number_text(double d);

// `name[i]`, e.g. features[2]; `[i]` when name is empty.
std::string indexed(std::string_view name, std::size_t i);

// Throws preprocess::PlanError("<where>: <what>").
[[noreturn]] void fail(const std::string& where, const std::string& what);

// Reads the members of one JSON object. Construction checks it is an object and that every key is
// one of `allowed`, so a typo is reported as the unknown key it is (not as a missing one).
class ObjectReader {
 public:
  // `noun` names keys in messages: "key" for records, "parameter" for steps. `quiet` is one more
  // allowed key left out of the hint that lists the allowed ones (a step's "op").
  ObjectReader(const json::Value& value, std::string where, std::initializer_list<std::string_view> allowed,
               std::string_view noun = "key", std::string_view quiet = {});

  const std::string& where() const noexcept { return where_; }

  // The member, or nullptr when absent.
  const json::Value* optional(std::string_view key) const noexcept;
  // The member; fails with `missing <noun> "key"` when absent.
  const json::Value& required(std::string_view key) const;

  // Typed reads of required members; each fails with `<noun> "key" must be ...` on the wrong type.
  const std::string& string(std::string_view key) const;
  double number(std::string_view key) const;
  // One of `choices`; returns its position in the list.
  std::size_t choice(std::string_view key, std::initializer_list<std::string_view> choices) const;

  // `<noun> "key"` as used in messages, e.g. `parameter "scale"`.
  std::string name(std::string_view key) const;

 private:
  const json::Value::Object* object_;
  std::string where_;
  std::string noun_;
};

}  // namespace infergate::spec
