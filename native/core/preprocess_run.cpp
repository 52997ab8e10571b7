// Plan::run(): executes the compiled Program over a batch of encoded rows.
//
// Arithmetic is float64 in exactly the order docs/preprocess.md writes it (the order scikit-learn
// computes in), and each value is rounded to float32 once, when stored. Row-major on both sides: a
// row's inputs and outputs sit in one or two cache lines, and features read the row in spec order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "preprocess_plan.hpp"

namespace infergate::preprocess {

namespace {

// The table slot of an encoded string value: its vocabulary index when x is a whole number in
// [0, size), otherwise `size`, the slot for unknown strings. This single check is what keeps every
// table read in bounds whatever the caller passes (NaN, -1, 1e300, 2.5, ...).
inline std::size_t slot(double x, std::uint32_t size) noexcept {
  if (x >= 0.0 && x < static_cast<double>(size)) {
    auto i = static_cast<std::uint32_t>(x);  // in range, so the conversion is defined
    if (static_cast<double>(i) == x) return i;
  }
  return size;
}

// The number of boundaries <= x. NaN compares false with everything, so callers handle it first.
inline std::uint32_t bucket(double x, const double* boundaries, std::uint32_t count) noexcept {
  return static_cast<std::uint32_t>(std::upper_bound(boundaries, boundaries + count, x) - boundaries);
}

}  // namespace

void Plan::run(const double* raw, std::size_t rows, float* out) const noexcept {
  const detail::Program& p = program_;
  const detail::Instr* code = p.code.data();
  const double* numbers = p.numbers.data();
  const std::int32_t* columns = p.columns.data();

  for (std::size_t r = 0; r < rows; ++r) {
    const double* in = raw + r * p.field_count;
    float* row_out = out + r * p.width;

    for (const detail::Feature& f : p.features) {
      double x = in[f.field];
      float* dst = row_out + f.column;

      for (std::uint32_t k = f.first; k < f.end; ++k) {
        const detail::Instr& op = code[k];
        switch (op.op) {
          case detail::OpCode::impute:
            if (std::isnan(x)) x = op.a;
            break;
          case detail::OpCode::log1p:
            x = std::log1p(x);
            break;
          case detail::OpCode::standardize:
            x = (x - op.a) / op.b;
            break;
          case detail::OpCode::min_max:
            x = x * op.a + op.b;
            break;
          case detail::OpCode::clip:
            // This argument order lets NaN through as NaN, as numpy.clip does.
            x = std::min(std::max(x, op.a), op.b);
            break;
          case detail::OpCode::bucketize:
            if (!std::isnan(x)) x = bucket(x, numbers + op.offset, op.count);
            break;
          case detail::OpCode::lookup:
            x = numbers[op.offset + slot(x, op.count)];
            break;
          case detail::OpCode::bucketize_one_hot:
            std::fill_n(dst, f.width, 0.0f);
            if (!std::isnan(x)) dst[bucket(x, numbers + op.offset, op.count)] = 1.0f;
            break;
          case detail::OpCode::one_hot: {
            std::fill_n(dst, f.width, 0.0f);
            std::int32_t c = columns[op.offset + slot(x, op.count)];
            if (c >= 0) dst[c] = 1.0f;
            break;
          }
        }
      }
      if (!f.terminal) *dst = static_cast<float>(x);
    }
  }
}

}  // namespace infergate::preprocess
