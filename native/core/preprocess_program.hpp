// The compiled form of a preprocessing spec: what Plan::run() executes.
//
// A spec is validated and lowered once, at model load, into flat arrays so that run() is a tight loop
// with no lookups by name, no allocation and no branches on spec structure beyond one switch per
// instruction. Everything run() indexes is sized at compile time:
//   - string fields arrive as vocabulary indices, and every per-category table (lookup values, one-hot
//     columns) has one entry per vocabulary index plus one final entry for "unknown";
//   - an index that is not a whole number in [0, vocabulary size) - including NaN, -1 and garbage -
//     selects that final entry, so no input can index out of bounds.
// Internal to native/core; callers use preprocess_plan.hpp.
#pragma once

#include <cstdint>
#include <vector>

namespace infergate::preprocess::detail {

enum class OpCode : std::uint8_t {
  // x = isnan(x) ? a : x. For string fields `a` is the vocabulary index of the imputed string.
  impute,
  log1p,        // x = log1p(x)
  standardize,  // x = (x - a) / b                  (a = mean, b = scale)
  min_max,      // x = x * a + b                    (a = scale, b = offset)
  clip,         // x = min(max(x, a), b)            (absent bounds are -inf / +inf)
  // x = count of boundaries <= x; boundaries are numbers[offset, offset + count). NaN stays NaN.
  bucketize,
  // x = numbers[offset + slot(x, count)]: count = vocabulary size, the final entry is the default.
  lookup,
  // Terminal ops write the feature's `width` columns themselves and are always last.
  // bucketize, then a 1 at that bucket's column (all zeros for NaN).
  bucketize_one_hot,
  // a 1 at columns[offset + slot(x, count)] when that entry is >= 0, zeros elsewhere.
  one_hot,
};

struct Instr {
  OpCode op;
  std::uint32_t offset = 0;  // into Program::numbers or Program::columns
  std::uint32_t count = 0;   // boundaries, or vocabulary size
  double a = 0;
  double b = 0;
};

struct Feature {
  std::uint32_t field;   // which value of the raw row it reads
  std::uint32_t first;   // its instructions are code[first, end)
  std::uint32_t end;
  std::uint32_t column;  // its first output column
  std::uint32_t width;   // 1, or the terminal op's column count
  bool terminal;         // the last instruction writes the output; otherwise run() writes x
};

struct Program {
  std::uint32_t field_count = 0;  // values per raw row
  std::uint32_t width = 0;        // values per output row
  std::vector<Feature> features;  // in output order
  std::vector<Instr> code;
  std::vector<double> numbers;        // bucket boundaries, lookup tables
  std::vector<std::int32_t> columns;  // one-hot tables: vocabulary slot -> column in the feature, or -1
};

}  // namespace infergate::preprocess::detail
