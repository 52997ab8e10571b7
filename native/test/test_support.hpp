// Helpers shared by the core tests: building small specs, catching the error a spec produces,
// running a plan into a guarded buffer, and writing a json::Value back to text.
#pragma once

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/preprocess_plan.hpp"

namespace infergate::test {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

// A whole spec from its parts (JSON text for the "fields" and "features" arrays).
inline std::string spec(const std::string& fields, const std::string& features, int width) {
  return R"({"format": "infergate.preprocess/1", "fields": )" + fields + R"(, "features": )" + features +
         R"(, "output": {"name": "features", "width": )" + std::to_string(width) + "}}";
}

// A spec with one field "x" of `type` and one feature reading it through `steps` (a JSON array).
inline std::string one_feature(const std::string& type, const std::string& steps, int width = 1,
                               const std::string& missing = "reject") {
  return spec(R"([{"name": "x", "type": ")" + type + R"(", "missing": ")" + missing + R"("}])",
              R"([{"field": "x", "steps": )" + steps + "}]", width);
}

// The message of the PlanError that compiling `text` throws; fails the test on success or on any
// other exception.
inline std::string plan_error(const std::string& text) {
  try {
    preprocess::compile(text);
  } catch (const preprocess::PlanError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a PlanError, got: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected a PlanError, but the spec compiled:\n" << text;
  return {};
}

// Runs `rows` rows of `raw` into a buffer with guard cells on both sides; checks that the guards are
// untouched and that every output cell was written. Returns the rows x width outputs.
inline std::vector<float> run_guarded(const preprocess::Plan& plan, const std::vector<double>& raw, std::size_t rows) {
  constexpr std::size_t kGuard = 16;
  constexpr float kGuardValue = -12345.5f;
  constexpr float kUnwritten = 98765.25f;
  const std::size_t n = rows * plan.width();
  std::vector<float> buffer(n + 2 * kGuard, kGuardValue);
  std::fill(buffer.begin() + kGuard, buffer.begin() + static_cast<std::ptrdiff_t>(kGuard + n), kUnwritten);
  plan.run(raw.data(), rows, buffer.data() + kGuard);
  for (std::size_t i = 0; i < kGuard; ++i) {
    EXPECT_EQ(buffer[i], kGuardValue) << "write before the output at -" << (kGuard - i);
    EXPECT_EQ(buffer[kGuard + n + i], kGuardValue) << "write past the output at +" << i;
  }
  std::vector<float> out(buffer.begin() + kGuard, buffer.begin() + static_cast<std::ptrdiff_t>(kGuard + n));
  for (std::size_t i = 0; i < n; ++i) EXPECT_NE(out[i], kUnwritten) << "output cell " << i << " not written";
  return out;
}

// Runs a one-field plan on one value.
inline std::vector<float> run_one(const preprocess::Plan& plan, double x) { return run_guarded(plan, {x}, 1); }

// Float32 of the double computation: what a correct plan must write.
inline float f32(double x) { return static_cast<float>(x); }

// json::Value back to JSON text (non-finite numbers, which JSON cannot spell, become null).
inline void write_json(const json::Value& v, std::string& out) {
  switch (v.type()) {
    case json::Type::null: out += "null"; break;
    case json::Type::boolean: out += v.as_bool() ? "true" : "false"; break;
    case json::Type::number: {
      if (!std::isfinite(v.as_number())) {
        out += "null";
        break;
      }
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_number());
      out.append(buf, end);
      break;
    }
    case json::Type::string: {
      out += '"';
      for (char ch : v.as_string()) {
        auto c = static_cast<unsigned char>(ch);
        if (c == '"' || c == '\\') {
          out += '\\';
          out += ch;
        } else if (c < 0x20) {
          static const char* hex = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += ch;
        }
      }
      out += '"';
      break;
    }
    case json::Type::array: {
      out += '[';
      bool first = true;
      for (const json::Value& item : v.as_array()) {
        if (!first) out += ',';
        first = false;
        write_json(item, out);
      }
      out += ']';
      break;
    }
    case json::Type::object: {
      out += '{';
      bool first = true;
      for (const json::Member& m : v.as_object()) {
        if (!first) out += ',';
        first = false;
        write_json(json::Value(m.key), out);
        out += ':';
        write_json(m.value, out);
      }
      out += '}';
      break;
    }
  }
}

inline std::string to_json(const json::Value& v) {
  std::string out;
  write_json(v, out);
  return out;
}

// The example of docs/preprocess.md, with "width" 5: the doc's example says 6, but its features
// produce 1 + (2 categories + 1 unknown bucket) + 1 = 5 columns.
inline const char* kDocExample = R"({
  "format": "infergate.preprocess/1",
  "fields": [
    { "name": "amount",            "type": "number",  "missing": "impute", "min": 0 },
    { "name": "merchant_category", "type": "string",  "missing": "impute" },
    { "name": "card_present",      "type": "boolean", "missing": "reject" }
  ],
  "features": [
    { "field": "amount", "steps": [
        { "op": "impute", "value": 37.25, "strategy": "median" },
        { "op": "log1p" },
        { "op": "standardize", "mean": 3.71, "scale": 1.18 },
        { "op": "clip", "min": -5, "max": 5 } ] },
    { "field": "merchant_category", "steps": [
        { "op": "impute", "value": "missing", "strategy": "constant" },
        { "op": "one_hot", "categories": ["grocery", "fuel"], "unknown": "bucket" } ] },
    { "field": "card_present", "steps": [] }
  ],
  "output": { "name": "features", "width": 5 }
})";

}  // namespace infergate::test
