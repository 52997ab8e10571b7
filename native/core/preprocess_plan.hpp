// A compiled preprocessing plan: the native form of a model's preprocess.json (docs/preprocess.md).
//
// compile() validates the whole spec and refuses anything doubtful with a PlanError naming where the
// problem is. A Plan is immutable afterwards, so one plan may run() on many threads at once.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "json.hpp"
#include "preprocess_program.hpp"

namespace infergate::preprocess {

inline constexpr std::string_view kFormat = "infergate.preprocess/1";

// A spec that parses as JSON but is not a valid plan. The message starts with the location, e.g.
//   features[2] (field "amount") steps[1] (standardize): parameter "scale" must be a non-zero finite number
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FieldType { number, string, boolean };
enum class MissingPolicy { impute, reject };

const char* to_string(FieldType type) noexcept;      // "number" | "string" | "boolean"
const char* to_string(MissingPolicy policy) noexcept;  // "impute" | "reject"

// One field of the raw record, as the caller must encode it into a raw row.
struct FieldInfo {
  std::string name;
  FieldType type;
  MissingPolicy missing;
  std::optional<double> min;  // number fields only: values outside [min, max] are refused by callers
  std::optional<double> max;
  // String fields: every string any step on this field names, in first-seen order. A string is
  // encoded as its index here, -1 when absent (unknown); a missing value as NaN.
  std::vector<std::string> vocabulary;
};

class Plan {
 public:
  std::size_t width() const noexcept { return program_.width; }  // float32 values per output row
  std::size_t field_count() const noexcept { return fields_.size(); }  // float64 values per raw row
  const std::string& output_name() const noexcept { return output_name_; }
  const std::vector<FieldInfo>& fields() const noexcept { return fields_; }

  // Preprocesses `rows` encoded records. `raw` holds rows x field_count() float64 values, row-major,
  // encoded as FieldInfo describes (booleans 0/1, strings as vocabulary index, missing as NaN).
  // Writes rows x width() float32 values to `out`, every one of them, and touches nothing else.
  // Never fails: unknown or out-of-range string indices count as unknown, NaN propagates through
  // arithmetic. Validation of values (missing, min/max, finiteness) is the caller's job.
  void run(const double* raw, std::size_t rows, float* out) const noexcept;

 private:
  friend Plan compile(const json::Value& spec);
  Plan() = default;

  std::string output_name_;
  std::vector<FieldInfo> fields_;
  detail::Program program_;
};

// Compiles preprocess.json text. Throws json::JsonError for malformed JSON, PlanError otherwise.
Plan compile(std::string_view json_text);
// Compiles an already-parsed spec. Throws PlanError.
Plan compile(const json::Value& spec);

}  // namespace infergate::preprocess
