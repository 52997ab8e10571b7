// The vocabulary shared by the batch scheduler and its callers: status codes, admission results and
// the completion a producer receives for each of its requests.
#pragma once

#include <cstdint>
#include <string_view>

namespace infergate::sched {

// The project's error vocabulary (docs: one error vocabulary), with fixed numeric values because
// the JS binding passes them through as Int32.
enum class Status : std::int32_t {
  ok = 0,
  invalid_argument = 1,
  deadline_exceeded = 2,
  resource_exhausted = 3,
  unavailable = 4,
  internal = 5,
};

const char* to_string(Status status) noexcept;  // "ok", "invalid_argument", ...

// Why submit() refused a request without claiming a row.
enum class Rejection : std::int32_t {
  none = 0,
  queue_full = 1,           // max_queue_size reached, or no free slab (resource exhausted)
  deadline_unmeetable = 2,  // now + estimated execution time is already past the deadline
  closed = 3,               // close() was called
  invalid_argument = 4,     // priority out of range, or the port is not open
};

const char* to_string(Rejection rejection) noexcept;

struct SubmitResult {
  std::uint64_t ticket = 0;  // meaningful when rejection == none; unique per scheduler
  Rejection rejection = Rejection::none;

  bool accepted() const noexcept { return rejection == Rejection::none; }
};

// One request's answer, handed to its port's delivery callback. `output` points at the row's
// output_width floats inside the batch; it is valid only during the callback (the batch memory is
// recycled right after), and holds no meaningful values unless status is ok.
struct Completion {
  std::uint64_t ticket;
  std::uint64_t port;
  std::uint64_t tag;  // the submitter's own value (Request::tag), handed back untouched
  std::uint32_t batch_rows;  // rows answered by the batch this request ran in (prediction logs)
  Status status;
  const float* output;
  std::string_view message;  // empty when ok; valid only during the callback
};

}  // namespace infergate::sched
