// The batch scheduler as a user sees it: rows in, batches out, each request answered once with its
// own result. Time-dependent behaviour runs on a manual clock with the timer thread off and tick()
// called by hand, so no test sleeps or measures; the two tests with the real timer only wait for
// something to happen, never for how soon.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "core/batch_scheduler.hpp"
#include "shm_peer.hpp"
#include "test_support.hpp"

namespace sched = infergate::sched;
using sched::Rejection;
using sched::Scheduler;
using sched::SchedulerConfig;
using sched::Status;

namespace {

class ManualClock final : public sched::Clock {
 public:
  std::uint64_t now_us() const noexcept override { return now_.load(); }
  void advance(std::uint64_t us) { now_ += us; }

 private:
  std::atomic<std::uint64_t> now_{1'000'000};
};

struct Answer {
  Status status;
  std::vector<float> output;
  std::string message;
};

// Collects what a port receives: ticket -> every answer (so duplicates show).
class Inbox {
 public:
  sched::Deliver deliver(std::size_t width) {
    return [this, width](std::span<const sched::Completion> completions) {
      std::lock_guard lock(mu_);
      ++calls_;
      for (const sched::Completion& c : completions) {
        answers_[c.ticket].push_back(Answer{c.status, std::vector<float>(c.output, c.output + width), std::string(c.message)});
      }
      cv_.notify_all();
    };
  }
  std::size_t size() {
    std::lock_guard lock(mu_);
    return answers_.size();
  }
  std::size_t calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }
  std::vector<Answer> of(std::uint64_t ticket) {
    std::lock_guard lock(mu_);
    auto it = answers_.find(ticket);
    return it == answers_.end() ? std::vector<Answer>{} : it->second;
  }
  // Waits until `count` tickets have answers; false after a minute (a hang, not a slow machine).
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::minutes(1), [&] { return answers_.size() >= count; });
  }
  std::map<std::uint64_t, std::vector<Answer>> all() {
    std::lock_guard lock(mu_);
    return answers_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::uint64_t, std::vector<Answer>> answers_;
  std::size_t calls_ = 0;
};

// The test "model": output row = (sum of the input row, first value).
void run_model(const sched::BatchView& batch, std::size_t in_width) {
  for (std::uint32_t r = 0; r < batch.rows; ++r) {
    const float* in = batch.input + r * in_width;
    float sum = 0;
    for (std::size_t k = 0; k < in_width; ++k) sum += in[k];
    batch.output[2 * r] = sum;
    batch.output[2 * r + 1] = in[0];
  }
}

std::vector<float> expected_output(const std::vector<float>& row) {
  float sum = 0;
  for (float v : row) sum += v;
  return {sum, row[0]};
}

SchedulerConfig manual_config(const std::shared_ptr<ManualClock>& clock) {
  SchedulerConfig c;
  c.max_batch_size = 4;
  c.max_queue_delay_microseconds = 1000;
  c.input_width = 3;
  c.output_width = 2;
  c.slab_count = 4;
  c.clock = clock;
  c.timer_thread = false;
  return c;
}

std::vector<float> row_of(float x) { return {x, 1.0f, 2.0f}; }

// Takes, runs and completes every ready batch; returns how many.
int run_ready(Scheduler& s) {
  int n = 0;
  while (auto batch = s.take()) {
    run_model(*batch, s.config().input_width);
    EXPECT_TRUE(s.complete(batch->id));
    ++n;
  }
  return n;
}

}  // namespace

TEST(BatchScheduler, RejectsBadConfig) {
  SchedulerConfig c;
  c.max_batch_size = 4;
  c.input_width = 1;
  c.output_width = 1;
  c.slab_count = 2;
  c.timer_thread = false;
  auto expect_error = [](SchedulerConfig bad, const char* needle) {
    try {
      Scheduler s(std::move(bad));
      ADD_FAILURE() << "expected a ConfigError mentioning " << needle;
    } catch (const sched::ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  SchedulerConfig bad = c;
  bad.max_batch_size = 0;
  expect_error(bad, "max_batch_size");
  bad = c;
  bad.slab_count = 1;
  expect_error(bad, "slab_count");
  bad = c;
  bad.preferred_batch_size = {5};
  expect_error(bad, "preferred_batch_size 5");
  bad = c;
  bad.default_priority_level = 2;
  expect_error(bad, "default_priority_level");
  bad = c;
  bad.plan = std::make_shared<const infergate::preprocess::Plan>(infergate::preprocess::compile(infergate::test::kDocExample));
  expect_error(bad, "input_width (1) must equal the preprocessing plan's width (5)");
  EXPECT_NO_THROW(Scheduler{c});
}

TEST(BatchScheduler, SealsOnSizeWithoutWaiting) {
  auto clock = std::make_shared<ManualClock>();
  Inbox inbox;
  Scheduler s(manual_config(clock));
  const auto port = *s.open_port(inbox.deliver(2));
  std::vector<std::uint64_t> tickets;
  for (int i = 0; i < 7; ++i) {
    auto r = s.submit(row_of(float(i)).data(), {.port = port});
    ASSERT_TRUE(r.accepted());
    tickets.push_back(r.ticket);
  }
  auto batch = s.take();  // the first four, sealed by the fourth claim; no time has passed
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->rows, 4u);
  EXPECT_FALSE(s.take().has_value()) << "three rows wait for company";
  run_model(*batch, 3);
  ASSERT_TRUE(s.complete(batch->id));
  EXPECT_FALSE(s.complete(batch->id)) << "a batch completes once";
  EXPECT_EQ(inbox.size(), 4u);
  EXPECT_EQ(inbox.calls(), 1u) << "one delivery per batch and port";
  for (std::size_t i = 0; i < 4; ++i) {
    auto answers = inbox.of(tickets[i]);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].status, Status::ok);
    EXPECT_EQ(answers[0].output, expected_output(row_of(float(i))));
  }
}

TEST(BatchScheduler, ABatchOpenedInASparseStreamIsSealedByItsFirstRequest) {
  // Gap 3000 us, queue delay 1000 us. The first batch ever waits (no stream to judge yet); so does one
  // opened within the gap of the last; one opened past it goes at once, alone, and a request that
  // follows it closely opens a batch that waits again.
  auto clock = std::make_shared<ManualClock>();
  Inbox inbox;
  SchedulerConfig c = manual_config(clock);
  c.sparse_seal_gap_us = 3000;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  auto submit = [&](float x) { ASSERT_TRUE(s.submit(row_of(x).data(), {.port = port}).accepted()); };
  auto rows_taken = [&]() -> std::uint32_t {
    auto batch = s.take();
    if (!batch) return 0;
    const std::uint32_t rows = batch->rows;
    run_model(*batch, 3);
    EXPECT_TRUE(s.complete(batch->id));
    return rows;
  };

  submit(1);
  EXPECT_EQ(rows_taken(), 0u) << "the first batch ever waits for company";
  clock->advance(1000);
  s.tick();
  EXPECT_EQ(rows_taken(), 1u);

  clock->advance(2000);  // 3000 us after the first opened: not past the gap
  submit(2);
  EXPECT_EQ(rows_taken(), 0u) << "opened within the gap: waits";
  submit(3);
  clock->advance(1000);
  s.tick();
  EXPECT_EQ(rows_taken(), 2u);

  clock->advance(5000);  // 6000 us after the last opened
  submit(4);
  EXPECT_EQ(rows_taken(), 1u) << "past the gap: sealed by its first claim, no time passed";
  clock->advance(10);
  submit(5);
  submit(6);
  EXPECT_EQ(rows_taken(), 0u) << "10 us after a batch opened: this one waits for company";
  clock->advance(1000);
  s.tick();
  EXPECT_EQ(rows_taken(), 2u);
  EXPECT_EQ(inbox.size(), 6u);

  // Off (the default), the same sparse request waits.
  Inbox other;
  Scheduler off(manual_config(clock));
  const auto off_port = *off.open_port(other.deliver(2));
  ASSERT_TRUE(off.submit(row_of(1).data(), {.port = off_port}).accepted());
  off.tick();
  clock->advance(100000);
  ASSERT_TRUE(off.submit(row_of(2).data(), {.port = off_port}).accepted());  // joins the open batch
  EXPECT_FALSE(off.take().has_value());
  off.flush();
  auto both = off.take();
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->rows, 2u);
}

TEST(BatchScheduler, EachCompletionCarriesItsRequestsTag) {
  // A producer finds its waiting request by the tag it chose (a slot in its own table), whatever
  // order the batch answers in and whichever batch a request landed in.
  auto clock = std::make_shared<ManualClock>();
  std::mutex mu;
  std::map<std::uint64_t, std::uint64_t> tag_of_ticket;
  Scheduler s(manual_config(clock));
  const auto port = *s.open_port([&](std::span<const sched::Completion> completions) {
    std::lock_guard lock(mu);
    for (const sched::Completion& c : completions) tag_of_ticket[c.ticket] = c.tag;
  });
  std::map<std::uint64_t, std::uint64_t> sent;
  for (std::uint64_t i = 0; i < 6; ++i) {
    const std::uint64_t tag = 1000 + 7 * i;
    auto r = s.submit(row_of(float(i)).data(), {.port = port, .tag = tag});
    ASSERT_TRUE(r.accepted());
    sent[r.ticket] = tag;
  }
  s.flush();
  EXPECT_EQ(run_ready(s), 2);
  EXPECT_EQ(tag_of_ticket, sent);
}

TEST(BatchScheduler, EachCompletionCarriesTheRowsOfItsBatch) {
  // The prediction log records the size of the batch a request ran in: every completion of a batch
  // carries the batch's answered rows, whichever port (producer thread) it is delivered to.
  auto clock = std::make_shared<ManualClock>();
  std::mutex mu;
  std::map<std::uint64_t, std::uint32_t> rows_of_ticket;
  Scheduler s(manual_config(clock));
  auto record = [&](std::span<const sched::Completion> completions) {
    std::lock_guard lock(mu);
    for (const sched::Completion& c : completions) rows_of_ticket[c.ticket] = c.batch_rows;
  };
  const auto a = *s.open_port(record);
  const auto b = *s.open_port(record);
  std::map<std::uint64_t, std::uint32_t> expected;
  // Six requests, max_batch_size 4: a batch of 4 (three from port a, one from b), then one of 2.
  for (std::uint64_t i = 0; i < 6; ++i) {
    auto r = s.submit(row_of(float(i)).data(), {.port = i == 1 || i == 5 ? b : a});
    ASSERT_TRUE(r.accepted());
    expected[r.ticket] = i < 4 ? 4 : 2;
  }
  s.flush();
  EXPECT_EQ(run_ready(s), 2);
  EXPECT_EQ(rows_of_ticket, expected);
}

TEST(BatchScheduler, SealsOnQueueDelayAndPreferredSize) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.max_batch_size = 8;
  c.preferred_batch_size = {2, 4};
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));

  // One request: sealed when it has waited the full delay.
  ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
  EXPECT_EQ(s.tick(), 1'000'000u + 1000) << "the next seal is due when the delay runs out";
  clock->advance(999);
  s.tick();
  EXPECT_FALSE(s.take().has_value());
  clock->advance(1);
  EXPECT_EQ(s.tick(), Scheduler::kNever);
  auto one = s.take();
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->rows, 1u);
  s.complete(one->id);

  // Two requests reach the smallest preferred size: sealed after a quarter of the delay.
  ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
  ASSERT_TRUE(s.submit(row_of(2).data(), {.port = port}).accepted());
  clock->advance(249);
  s.tick();
  EXPECT_FALSE(s.take().has_value());
  clock->advance(1);
  s.tick();
  auto two = s.take();
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->rows, 2u);
  s.complete(two->id);

  // Four requests reach the largest preferred size: sealed by the fourth claim.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s.submit(row_of(float(i)).data(), {.port = port}).accepted());
  auto four = s.take();
  ASSERT_TRUE(four.has_value());
  EXPECT_EQ(four->rows, 4u);
  s.complete(four->id);
  EXPECT_EQ(inbox.size(), 7u);
}

TEST(BatchScheduler, TimerThreadSealsALoneRequest) {
  SchedulerConfig c;
  c.max_batch_size = 64;
  c.max_queue_delay_microseconds = 500;
  c.input_width = 3;
  c.output_width = 2;
  c.slab_count = 4;
  std::atomic<int> sealed{0};
  c.on_sealed = [&sealed] { ++sealed; };
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  auto r = s.submit(row_of(5).data(), {.port = port});
  ASSERT_TRUE(r.accepted());
  std::thread executor([&] {
    while (inbox.size() < 1) {
      if (run_ready(s) == 0) std::this_thread::yield();
    }
  });
  EXPECT_TRUE(inbox.wait_for(1)) << "never sealed";
  executor.join();
  EXPECT_EQ(inbox.of(r.ticket).at(0).output, expected_output(row_of(5)));
  EXPECT_EQ(sealed.load(), 1);
}

// Requests one at a time, each after the last was answered, on the real timer thread; returns how
// many times a producer had to wake the timer.
std::uint64_t timer_wakeups_for_requests_one_after_another(std::uint32_t linger_looks, int requests) {
  SchedulerConfig c;
  c.max_batch_size = 64;
  c.max_queue_delay_microseconds = 20'000;
  c.input_width = 3;
  c.output_width = 2;
  c.slab_count = 4;
  c.timer_linger_looks = linger_looks;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  std::atomic<bool> stop{false};
  std::thread executor([&] {
    while (!stop.load()) {
      if (run_ready(s) == 0) std::this_thread::yield();
    }
  });
  for (int i = 0; i < requests; ++i) {
    auto r = s.submit(row_of(static_cast<float>(i)).data(), {.port = port});
    EXPECT_TRUE(r.accepted());
    EXPECT_TRUE(inbox.wait_for(static_cast<std::size_t>(i) + 1)) << "never sealed";
    EXPECT_EQ(inbox.of(r.ticket).at(0).output, expected_output(row_of(static_cast<float>(i))));
  }
  stop = true;
  executor.join();
  EXPECT_EQ(s.stats().batches_executed, static_cast<std::uint64_t>(requests));
  return s.stats().timer_wakeups;
}

TEST(BatchScheduler, AfterASealTheTimerLooksAgainSoTheNextBatchWakesNobody) {
  // Lingering for up to 1000 looks of 20 ms: the first request wakes the timer; so does the second,
  // which shows the stream is dense (it came within the window of the first); every later batch
  // opens while the timer is due to look within the queue delay anyway. A producer that happens to
  // open a batch while the timer is mid-scan wakes it too, hence the allowance of one.
  EXPECT_LE(timer_wakeups_for_requests_one_after_another(1000, 6), 3u);
  // Without lingering, each batch's first request wakes the timer.
  EXPECT_EQ(timer_wakeups_for_requests_one_after_another(0, 6), 6u);
}

TEST(BatchScheduler, HigherPriorityIsTakenFirst) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.priority_levels = 3;
  c.default_priority_level = 2;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  auto low = s.submit(row_of(3).data(), {.port = port, .priority = 3});
  auto normal = s.submit(row_of(2).data(), {.port = port});  // default level 2
  auto high = s.submit(row_of(1).data(), {.port = port, .priority = 1});
  ASSERT_TRUE(low.accepted() && normal.accepted() && high.accepted());
  EXPECT_EQ(s.submit(row_of(0).data(), {.port = port, .priority = 4}).rejection, Rejection::invalid_argument);
  clock->advance(1000);
  s.tick();  // all three batches are due
  for (float first : {1.0f, 2.0f, 3.0f}) {
    auto batch = s.take();
    ASSERT_TRUE(batch.has_value());
    ASSERT_EQ(batch->rows, 1u);
    EXPECT_EQ(batch->input[0], first);
    run_model(*batch, 3);
    s.complete(batch->id);
  }
  EXPECT_EQ(inbox.of(high.ticket).at(0).output, expected_output(row_of(1)));
}

TEST(BatchScheduler, QueueFullAtMaxQueueSizeAndWhenSlabsRunOut) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.default_queue_policy.max_queue_size = 5;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
  EXPECT_EQ(s.submit(row_of(1).data(), {.port = port}).rejection, Rejection::queue_full);
  EXPECT_EQ(s.stats().queue_depth, 5u);
  EXPECT_EQ(run_ready(s), 1);  // the full batch of 4 leaves the queue
  EXPECT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());

  // No max_queue_size, but only 2 slabs of 1 row: the third request finds no memory.
  SchedulerConfig small = manual_config(clock);
  small.max_batch_size = 1;
  small.slab_count = 2;
  Scheduler t(small);
  const auto tport = *t.open_port(inbox.deliver(2));
  EXPECT_TRUE(t.submit(row_of(1).data(), {.port = tport}).accepted());
  EXPECT_TRUE(t.submit(row_of(1).data(), {.port = tport}).accepted());
  EXPECT_EQ(t.submit(row_of(1).data(), {.port = tport}).rejection, Rejection::queue_full);
  EXPECT_EQ(run_ready(t), 2);
  EXPECT_TRUE(t.submit(row_of(1).data(), {.port = tport}).accepted());
  EXPECT_EQ(t.stats().rejected_queue_full, 1u);
}

TEST(BatchScheduler, DeadlineUnmeetableOnceExecutionTimeIsKnown) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.default_queue_policy.allow_timeout_override = true;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  // Before any batch ran nothing is known: a short timeout is accepted.
  ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port, .timeout_us = 10}).accepted());
  s.flush();
  auto batch = s.take();
  ASSERT_TRUE(batch.has_value());
  clock->advance(1000);  // the batch takes 1000 µs
  s.complete(batch->id);
  EXPECT_EQ(s.estimated_exec_us(), 1000.0);

  EXPECT_EQ(s.submit(row_of(1).data(), {.port = port, .timeout_us = 500}).rejection, Rejection::deadline_unmeetable);
  const std::uint64_t now = clock->now_us();
  EXPECT_EQ(s.submit(row_of(1).data(), {.port = port, .deadline_us = now + 999}).rejection,
            Rejection::deadline_unmeetable);
  EXPECT_TRUE(s.submit(row_of(1).data(), {.port = port, .timeout_us = 5000}).accepted());
  EXPECT_EQ(s.stats().rejected_deadline_unmeetable, 2u);
}

TEST(BatchScheduler, ADeadlineSealsItsBatchEarly) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.max_queue_delay_microseconds = 100'000;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
  const std::uint64_t deadline = clock->now_us() + 300;
  ASSERT_TRUE(s.submit(row_of(2).data(), {.port = port, .deadline_us = deadline}).accepted());
  EXPECT_EQ(s.tick(), deadline) << "with no execution estimate, due at the deadline itself";
  clock->advance(300);
  s.tick();
  auto batch = s.take();
  ASSERT_TRUE(batch.has_value());
  EXPECT_EQ(batch->rows, 2u);
  s.complete(batch->id);
}

TEST(BatchScheduler, ATakenBatchCarriesItsLevelAndEarliestDeadline) {
  // A backend that forwards the batch (Triton) passes both on: priority, and deadline as timeout.
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.priority_levels = 2;
  c.default_priority_level = 1;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  const std::uint64_t now = clock->now_us();
  ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port, .priority = 2, .deadline_us = now + 5000}).accepted());
  ASSERT_TRUE(s.submit(row_of(2).data(), {.port = port, .priority = 2, .deadline_us = now + 3000}).accepted());
  ASSERT_TRUE(s.submit(row_of(3).data(), {.port = port, .priority = 2}).accepted());
  ASSERT_TRUE(s.submit(row_of(4).data(), {.port = port, .priority = 1}).accepted());
  s.flush();

  auto first = s.take();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->level, 0u) << "level 1 (index 0) is taken first";
  EXPECT_EQ(first->deadline_us, sched::kNoDeadline) << "no request of this batch has a deadline";
  auto second = s.take();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->rows, 3u);
  EXPECT_EQ(second->level, 1u);
  EXPECT_EQ(second->deadline_us, now + 3000) << "the earliest deadline among its requests";
  auto again = s.batch(second->id);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->deadline_us, now + 3000);
  EXPECT_EQ(again->level, 1u);
  s.complete(first->id);
  s.complete(second->id);
}

TEST(BatchScheduler, RequestStatsCountOutcomesLatencyAndBatchSizes) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
  s.flush();
  auto ok = s.take();
  ASSERT_TRUE(ok.has_value());
  clock->advance(700);  // arrival to answer: 700 µs, all of it computing
  run_model(*ok, 3);
  ASSERT_TRUE(s.complete(ok->id));
  ASSERT_TRUE(s.submit(row_of(2).data(), {.port = port}).accepted());
  clock->advance(2500);  // queued 2500 µs
  s.flush();
  auto bad = s.take();
  ASSERT_TRUE(bad.has_value());
  ASSERT_TRUE(s.fail(bad->id, Status::unavailable, "gone"));

  const sched::RequestStats& r = s.request_stats();
  EXPECT_EQ(r.succeeded(), 3u);
  EXPECT_EQ(r.succeeded_us(), 3u * 700);
  EXPECT_EQ(r.failed(), 1u);
  EXPECT_EQ(r.failed_us(), 2500u);
  EXPECT_EQ(r.last_answer_us(), clock->now_us());
  // 700 µs falls in the (500, 750] bucket, 2500 µs in (2000, 3000].
  auto bucket_of = [](std::uint64_t bound) {
    const auto& b = sched::RequestStats::kBoundsUs;
    return static_cast<std::size_t>(std::find(b.begin(), b.end(), bound) - b.begin());
  };
  EXPECT_EQ(r.bucket(bucket_of(750)), 3u);
  EXPECT_EQ(r.bucket(bucket_of(3000)), 1u);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < sched::RequestStats::kBuckets; ++i) total += r.bucket(i);
  EXPECT_EQ(total, 4u);
  EXPECT_EQ(r.batches_of(3), 1u) << "only completed batches count as executed";
  EXPECT_EQ(r.batch_us_of(3), 700u);
  EXPECT_EQ(r.batches_of(1), 0u);
}

TEST(BatchScheduler, QueueTimeoutRejectVersusDelay) {
  for (auto action : {sched::TimeoutAction::reject, sched::TimeoutAction::delay}) {
    SCOPED_TRACE(action == sched::TimeoutAction::reject ? "reject" : "delay");
    auto clock = std::make_shared<ManualClock>();
    SchedulerConfig c = manual_config(clock);
    c.default_queue_policy.timeout_action = action;
    c.default_queue_policy.default_timeout_microseconds = 100;
    c.default_queue_policy.allow_timeout_override = true;
    Inbox inbox;
    Scheduler s(c);
    const auto port = *s.open_port(inbox.deliver(2));
    auto short_wait = s.submit(row_of(1).data(), {.port = port});  // default: 100 µs
    auto long_wait = s.submit(row_of(2).data(), {.port = port, .timeout_us = 10'000});
    ASSERT_TRUE(short_wait.accepted() && long_wait.accepted());
    clock->advance(200);  // the executor was busy: the first request's timeout passes in the queue
    s.flush();
    auto batch = s.take();
    ASSERT_TRUE(batch.has_value());
    EXPECT_EQ(batch->rows, 2u) << "the timed-out row keeps its slot";
    run_model(*batch, 3);
    s.complete(batch->id);
    const Answer first = inbox.of(short_wait.ticket).at(0);
    if (action == sched::TimeoutAction::reject) {
      EXPECT_EQ(first.status, Status::deadline_exceeded);
      EXPECT_EQ(first.message, "request timed out in the queue");
      EXPECT_EQ(s.stats().deadline_exceeded, 1u);
    } else {
      EXPECT_EQ(first.status, Status::ok);
      EXPECT_EQ(first.output, expected_output(row_of(1)));
    }
    EXPECT_EQ(inbox.of(long_wait.ticket).at(0).status, Status::ok);

    // Without the override a request's own timeout is ignored: the default applies.
    SchedulerConfig strict = c;
    strict.default_queue_policy.allow_timeout_override = false;
    Scheduler t(strict);
    const auto tport = *t.open_port(inbox.deliver(2));
    auto r = t.submit(row_of(3).data(), {.port = tport, .timeout_us = 10'000});
    clock->advance(200);
    t.flush();
    if (action == sched::TimeoutAction::reject) {
      EXPECT_FALSE(t.take().has_value()) << "a batch with nothing left to run is answered by take() itself";
      EXPECT_EQ(inbox.of(r.ticket).at(0).status, Status::deadline_exceeded);
    } else {
      EXPECT_EQ(run_ready(t), 1);
      EXPECT_EQ(inbox.of(r.ticket).at(0).status, Status::ok);
    }
  }
}

TEST(BatchScheduler, FailAnswersEveryRowWithTheError) {
  auto clock = std::make_shared<ManualClock>();
  Inbox a, b;
  Scheduler s(manual_config(clock));
  const auto port_a = *s.open_port(a.deliver(2));
  const auto port_b = *s.open_port(b.deliver(2));
  std::vector<std::uint64_t> ta, tb;
  for (int i = 0; i < 4; ++i) {
    auto r = s.submit(row_of(float(i)).data(), {.port = i % 2 ? port_b : port_a});
    (i % 2 ? tb : ta).push_back(r.ticket);
  }
  auto batch = s.take();
  ASSERT_TRUE(batch.has_value());
  ASSERT_TRUE(s.fail(batch->id, Status::internal, "model exploded"));
  EXPECT_FALSE(s.fail(batch->id, Status::internal, "again"));
  EXPECT_EQ(a.calls(), 1u);
  EXPECT_EQ(b.calls(), 1u);
  for (auto t : ta) EXPECT_EQ(a.of(t).at(0).message, "model exploded");
  for (auto t : tb) EXPECT_EQ(b.of(t).at(0).status, Status::internal);
  EXPECT_EQ(s.stats().failed_rows, 4u);
}

TEST(BatchScheduler, CloseAnswersPendingWithUnavailable) {
  auto clock = std::make_shared<ManualClock>();
  Inbox inbox;
  Scheduler s(manual_config(clock));
  const auto port = *s.open_port(inbox.deliver(2));
  std::vector<std::uint64_t> tickets;
  for (int i = 0; i < 6; ++i) tickets.push_back(s.submit(row_of(float(i)).data(), {.port = port}).ticket);
  auto running = s.take();  // the first four are with the executor
  ASSERT_TRUE(running.has_value());
  s.close();
  EXPECT_TRUE(s.closed());
  for (std::size_t i = 4; i < 6; ++i) EXPECT_EQ(inbox.of(tickets[i]).at(0).status, Status::unavailable);
  EXPECT_EQ(s.submit(row_of(1).data(), {.port = port}).rejection, Rejection::closed);
  run_model(*running, 3);
  EXPECT_TRUE(s.complete(running->id)) << "a batch already taken still completes";
  EXPECT_EQ(inbox.of(tickets[0]).at(0).status, Status::ok);
  EXPECT_EQ(inbox.size(), 6u);
  s.close();  // idempotent
}

TEST(BatchScheduler, StoppedAdmissionRefusesNewRequestsAndAnswersTheAdmittedOnes) {
  // A retiring version stops admission, waits until what it admitted is answered, then closes:
  // nothing is refused that was admitted, nothing admitted after the stop.
  auto clock = std::make_shared<ManualClock>();
  Inbox inbox;
  Scheduler s(manual_config(clock));
  const auto port = *s.open_port(inbox.deliver(2));
  std::vector<std::uint64_t> admitted;
  for (int i = 0; i < 3; ++i) {
    auto r = s.submit(row_of(float(i)).data(), {.port = port});
    ASSERT_TRUE(r.accepted());
    admitted.push_back(r.ticket);
  }
  s.stop_admission();
  EXPECT_EQ(s.submit(row_of(9).data(), {.port = port}).rejection, Rejection::closed);
  EXPECT_FALSE(s.closed()) << "stopping admission is not closing";
  s.flush();
  EXPECT_EQ(run_ready(s), 1);
  for (std::size_t i = 0; i < admitted.size(); ++i) {
    auto answers = inbox.of(admitted[i]);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].status, Status::ok);
  }
  EXPECT_EQ(s.stats().accepted, 3u);
  EXPECT_EQ(s.stats().rejected_closed, 1u);
  s.close();
}

TEST(BatchScheduler, CompletionsToAClosedPortAreDroppedAndCounted) {
  auto clock = std::make_shared<ManualClock>();
  Inbox inbox;
  Scheduler s(manual_config(clock));
  const auto port = *s.open_port(inbox.deliver(2));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
  EXPECT_TRUE(s.close_port(port));
  EXPECT_FALSE(s.close_port(port));
  EXPECT_EQ(s.submit(row_of(1).data(), {.port = port}).rejection, Rejection::invalid_argument);
  EXPECT_EQ(run_ready(s), 1);
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_EQ(s.stats().completions_dropped, 4u);
  // The slot is reused under a new id: the old id stays closed.
  const auto again = *s.open_port(inbox.deliver(2));
  EXPECT_NE(again, port);
  EXPECT_EQ(s.submit(row_of(1).data(), {.port = port}).rejection, Rejection::invalid_argument);
}

TEST(BatchScheduler, PreprocessesRawRowsStraightIntoTheBatch) {
  auto plan = std::make_shared<const infergate::preprocess::Plan>(infergate::preprocess::compile(infergate::test::kDocExample));
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.input_width = static_cast<std::uint32_t>(plan->width());
  c.plan = plan;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  const std::vector<double> raw = {120.5, 1, 1, infergate::test::kNaN, 2, 0};  // two records
  ASSERT_TRUE(s.submit_raw(raw.data(), {.port = port}).accepted());
  ASSERT_TRUE(s.submit_raw(raw.data() + 3, {.port = port}).accepted());
  // An already-preprocessed row (the tensor API) shares the batch with the raw records.
  std::vector<float> ready(plan->width(), 0.25f);
  ASSERT_TRUE(s.submit(ready.data(), {.port = port}).accepted());
  s.flush();
  auto batch = s.take();
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->rows, 3u);
  std::vector<float> expected(2 * plan->width());
  plan->run(raw.data(), 2, expected.data());
  expected.insert(expected.end(), ready.begin(), ready.end());
  EXPECT_EQ(std::vector<float>(batch->input, batch->input + expected.size()), expected);
  s.complete(batch->id);
}

TEST(BatchScheduler, AdaptiveDelayShrinksWhenLatencyIsOverTarget) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.max_batch_size = 1;
  c.adaptive_target_latency_microseconds = 100;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  EXPECT_EQ(s.stats().queue_delay_us, 1000u) << "starts at the configured maximum";
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
    auto batch = s.take();
    clock->advance(500);  // way over the 100 µs target
    s.complete(batch->id);
  }
  const std::uint64_t shrunk = s.stats().queue_delay_us;
  EXPECT_LT(shrunk, 1000u);
  for (int i = 0; i < 50; ++i) {  // now instant: the latency average falls and the delay grows back
    ASSERT_TRUE(s.submit(row_of(1).data(), {.port = port}).accepted());
    auto batch = s.take();
    s.complete(batch->id);
  }
  EXPECT_GT(s.stats().queue_delay_us, shrunk);
}

// The main concurrency test: producers on several threads, executors on others, random rows; every
// ticket is answered exactly once, on its own port, with the output computed from its own row.
class ConcurrentScheduler : public ::testing::TestWithParam<int> {};

TEST_P(ConcurrentScheduler, EveryTicketAnsweredOnceWithItsOwnOutput) {
  constexpr std::size_t kProducers = 4;
  constexpr std::size_t kPerProducer = 20000;
  const int consumers = GetParam();
  SchedulerConfig c;
  c.max_batch_size = 16;
  c.max_queue_delay_microseconds = 200;
  c.preferred_batch_size = {8, 16};
  c.input_width = 5;
  c.output_width = 2;
  c.slab_count = 8;
  c.priority_levels = 2;
  std::vector<Inbox> inboxes(kProducers);  // outlive the scheduler, which may deliver as it closes
  Scheduler s(c);

  std::atomic<std::size_t> producers_done{0};
  std::vector<std::map<std::uint64_t, std::vector<float>>> expected(kProducers);
  std::vector<std::thread> threads;
  for (std::size_t p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      const auto port = *s.open_port(inboxes[p].deliver(2));
      std::mt19937 rng(static_cast<unsigned>(p + 1));
      std::uniform_real_distribution<float> value(-100, 100);
      std::vector<float> row(5);
      for (std::size_t i = 0; i < kPerProducer; ++i) {
        for (float& v : row) v = value(rng);
        const std::uint32_t priority = 1 + static_cast<std::uint32_t>(rng() % 2);
        sched::SubmitResult r;
        while (!(r = s.submit(row.data(), {.port = port, .priority = priority})).accepted()) {
          ASSERT_EQ(r.rejection, Rejection::queue_full);  // every slab busy: back off
          std::this_thread::yield();
        }
        ASSERT_TRUE(expected[p].emplace(r.ticket, expected_output(row)).second) << "duplicate ticket";
      }
      ++producers_done;
    });
  }
  for (int k = 0; k < consumers; ++k) {
    threads.emplace_back([&] {
      for (;;) {
        if (run_ready(s) != 0) continue;
        bool all_answered = producers_done.load() == kProducers;
        for (auto& inbox : inboxes) all_answered = all_answered && inbox.size() == kPerProducer;
        if (all_answered) return;
        std::this_thread::yield();
      }
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::uint64_t> all_tickets;
  for (std::size_t p = 0; p < kProducers; ++p) {
    auto answers = inboxes[p].all();
    ASSERT_EQ(answers.size(), expected[p].size());
    std::size_t wrong = 0;
    for (const auto& [ticket, output] : expected[p]) {
      auto it = answers.find(ticket);
      if (it == answers.end() || it->second.size() != 1 || it->second[0].status != Status::ok ||
          it->second[0].output != output) {
        ++wrong;
      }
      EXPECT_TRUE(all_tickets.insert(ticket).second) << "ticket " << ticket << " issued twice";
    }
    EXPECT_EQ(wrong, 0u) << "producer " << p;
  }
  const sched::SchedulerStats stats = s.stats();
  EXPECT_EQ(stats.accepted, std::uint64_t{kProducers} * kPerProducer);
  EXPECT_EQ(stats.rows_executed, stats.accepted);
  EXPECT_EQ(stats.queue_depth, 0u);
  EXPECT_EQ(stats.completions_dropped, 0u);
}

INSTANTIATE_TEST_SUITE_P(Consumers, ConcurrentScheduler, ::testing::Values(1, 2));

// A small scheduler (batches of 8, 100 µs delay, 4 slabs) kept busy: three producers submit until
// they are refused as closed, and an executor runs whatever is ready until stopped.
class BusyScheduler {
 public:
  BusyScheduler() : s_(config()), port_(*s_.open_port(inbox.deliver(2))) {
    for (int p = 0; p < 3; ++p) {
      threads_.emplace_back([this] {
        std::vector<float> row(5, 1.0f);
        for (;;) {
          auto r = s_.submit(row.data(), {.port = port_});
          if (r.accepted()) ++accepted;
          if (r.rejection == Rejection::closed) return;
        }
      });
    }
    threads_.emplace_back([this] {
      while (!stop_.load()) {
        if (run_ready(s_) == 0) std::this_thread::yield();
      }
      run_ready(s_);
    });
  }
  ~BusyScheduler() {
    s_.close();
    join();
  }
  Scheduler& scheduler() { return s_; }
  void wait_until_accepted(std::uint64_t n) {
    while (accepted.load() < n) std::this_thread::yield();
  }
  // After close(): stops the executor and waits for every thread.
  void join() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  Inbox inbox;
  std::atomic<std::uint64_t> accepted{0};

 private:
  static SchedulerConfig config() {
    SchedulerConfig c;
    c.max_batch_size = 8;
    c.max_queue_delay_microseconds = 100;
    c.input_width = 5;
    c.output_width = 2;
    c.slab_count = 4;
    return c;
  }
  Scheduler s_;
  const std::uint64_t port_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST(BatchScheduler, CloseWhileProducersRunAnswersEveryAcceptedTicket) {
  BusyScheduler busy;
  busy.wait_until_accepted(2000);
  busy.scheduler().close();
  busy.join();
  EXPECT_TRUE(busy.inbox.wait_for(busy.accepted.load()));
  EXPECT_EQ(busy.inbox.size(), busy.accepted.load());
  for (const auto& [ticket, answers] : busy.inbox.all()) {
    ASSERT_EQ(answers.size(), 1u) << ticket;
    EXPECT_TRUE(answers[0].status == Status::ok || answers[0].status == Status::unavailable);
  }
}

// The retiring sequence against producers on other threads: stop admission, wait until every
// accepted request is answered, close. A producer that passed the admission check just before the
// stop must either be counted in `accepted` (and answered before the close) or be refused as closed:
// no accepted request may be failed by the close.
TEST(BatchScheduler, StoppingAdmissionUnderConcurrentProducersFailsNoAcceptedRequest) {
  for (int round = 0; round < 20; ++round) {
    BusyScheduler busy;
    Scheduler& s = busy.scheduler();
    busy.wait_until_accepted(500);
    s.stop_admission();
    // What the retiring side does: flush, and wait until everything accepted is answered.
    for (;;) {
      s.flush();
      if (busy.inbox.size() >= s.stats().accepted) break;
      std::this_thread::yield();
    }
    s.close();
    busy.join();
    EXPECT_EQ(busy.inbox.size(), busy.accepted.load());
    for (const auto& [ticket, answers] : busy.inbox.all()) {
      ASSERT_EQ(answers.size(), 1u) << ticket;
      ASSERT_EQ(answers[0].status, Status::ok) << "round " << round << ": an accepted request was failed by the close";
    }
  }
}

// Producers that also run batches between submits (as a service thread would), on few slabs and
// sealing on size only: the busiest reuse of slabs and open slots, where a stale index is most
// likely. Every accepted ticket must still be answered exactly once.
TEST(BatchScheduler, ProducersThatAlsoExecuteLoseNothing) {
  constexpr std::size_t kThreads = 3;
  constexpr std::size_t kPerThread = 60000;
  SchedulerConfig c;
  c.max_batch_size = 8;
  c.max_queue_delay_microseconds = 10'000'000;  // the timer stays out of it
  c.input_width = 5;
  c.output_width = 2;
  c.slab_count = 3;
  std::vector<Inbox> inboxes(kThreads);
  Scheduler s(c);
  std::vector<std::thread> threads;
  std::vector<std::vector<std::uint64_t>> tickets(kThreads);
  for (std::size_t t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const auto port = *s.open_port(inboxes[t].deliver(2));
      std::vector<float> row(5, float(t));
      for (std::size_t i = 0; i < kPerThread; ++i) {
        sched::SubmitResult r;
        while (!(r = s.submit(row.data(), {.port = port})).accepted()) run_ready(s);
        tickets[t].push_back(r.ticket);
        if (i % 7 == 0) run_ready(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  s.flush();
  run_ready(s);
  for (std::size_t t = 0; t < kThreads; ++t) {
    auto answers = inboxes[t].all();
    EXPECT_EQ(answers.size(), kPerThread);
    std::size_t wrong = 0;
    for (auto ticket : tickets[t]) {
      auto it = answers.find(ticket);
      wrong += it == answers.end() || it->second.size() != 1 || it->second[0].output != expected_output(std::vector<float>(5, float(t)));
    }
    EXPECT_EQ(wrong, 0u);
  }
}

// With shared_memory the batches live in one POSIX shm region, and another process that maps its
// key (as Triton does) reads the inputs and writes the outputs in place, at the reported offsets.
TEST(BatchScheduler, SharedMemoryBatchesAreReadAndWrittenThroughTheRegion) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.shared_memory = true;
  c.shared_memory_tag = "fraud/1";
  Inbox inbox;
  Scheduler s(c);
  const infergate::shm::ShmRegion* region = s.shared_memory();
  ASSERT_NE(region, nullptr);
  EXPECT_NE(region->key().find("-fraud_1"), std::string::npos) << region->key();
  infergate::test::ShmPeer peer(region->key());
  ASSERT_EQ(peer.size(), region->size());

  const auto port = *s.open_port(inbox.deliver(2));
  std::vector<std::uint64_t> tickets;
  for (int i = 0; i < 3; ++i) tickets.push_back(s.submit(row_of(float(10 + i)).data(), {.port = port}).ticket);
  s.flush();
  auto batch = s.take();
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->rows, 3u);
  auto offsets = s.shared_memory_offsets(batch->id);
  ASSERT_TRUE(offsets.has_value());
  EXPECT_EQ(reinterpret_cast<std::byte*>(batch->input), region->data() + offsets->input);
  EXPECT_EQ(reinterpret_cast<std::byte*>(batch->output), region->data() + offsets->output);
  EXPECT_EQ(offsets->input % 64, 0u);
  EXPECT_EQ(offsets->output % 64, 0u);

  // The rows submit() wrote, seen through the peer's mapping.
  std::vector<float> seen(3 * 3);
  std::memcpy(seen.data(), peer.data() + offsets->input, seen.size() * sizeof(float));
  for (int i = 0; i < 3; ++i) {
    const std::vector<float> row(seen.begin() + 3 * i, seen.begin() + 3 * i + 3);
    EXPECT_EQ(row, row_of(float(10 + i))) << "row " << i;
  }
  // Outputs written by the peer are what the requests receive.
  const float outputs[6] = {0.5f, -1.0f, 2.25f, 3.0f, 1e6f, -0.0f};
  std::memcpy(peer.data() + offsets->output, outputs, sizeof outputs);
  ASSERT_TRUE(s.complete(batch->id));
  for (std::size_t i = 0; i < 3; ++i) {
    auto answers = inbox.of(tickets[i]);
    ASSERT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].output, (std::vector<float>{outputs[2 * i], outputs[2 * i + 1]})) << "row " << i;
  }
  EXPECT_FALSE(s.shared_memory_offsets(batch->id).has_value()) << "a completed batch has no offsets";

  // close() removes the name; the scheduler's own mapping stays until it is destroyed.
  s.close();
  EXPECT_EQ(infergate::test::shm_open_errno(region->key()), ENOENT);
  EXPECT_EQ(s.shared_memory(), region);
}

TEST(BatchScheduler, SharedMemorySlabsAreDisjointBlocksInsideTheRegion) {
  auto clock = std::make_shared<ManualClock>();
  SchedulerConfig c = manual_config(clock);
  c.input_width = 5;  // 4 rows x 5 floats = 80 bytes: blocks are padded to 128
  c.shared_memory = true;
  Inbox inbox;
  Scheduler s(c);
  const auto port = *s.open_port(inbox.deliver(2));
  const std::vector<float> row(5, 1.0f);
  std::vector<sched::BatchView> batches;
  std::vector<std::pair<std::size_t, std::size_t>> blocks;  // [begin, end) in bytes
  for (std::uint32_t b = 0; b < c.slab_count; ++b) {
    for (std::uint32_t r = 0; r < c.max_batch_size; ++r) ASSERT_TRUE(s.submit(row.data(), {.port = port}).accepted());
    auto batch = s.take();
    ASSERT_TRUE(batch.has_value());
    auto offsets = s.shared_memory_offsets(batch->id);
    ASSERT_TRUE(offsets.has_value());
    blocks.emplace_back(offsets->input, offsets->input + 4 * 5 * sizeof(float));
    blocks.emplace_back(offsets->output, offsets->output + 4 * 2 * sizeof(float));
    batches.push_back(*batch);
  }
  std::sort(blocks.begin(), blocks.end());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    EXPECT_EQ(blocks[i].first % 64, 0u);
    if (i + 1 < blocks.size()) {
      EXPECT_LE(blocks[i].second, blocks[i + 1].first) << "blocks overlap";
    }
  }
  const infergate::shm::ShmRegion* region = s.shared_memory();
  ASSERT_NE(region, nullptr);
  EXPECT_LE(blocks.back().second, region->size());
  for (const auto& batch : batches) {
    run_model(batch, 5);
    EXPECT_TRUE(s.complete(batch.id));
  }
  EXPECT_EQ(inbox.size(), std::size_t{c.slab_count} * c.max_batch_size);
}

TEST(BatchScheduler, WithoutSharedMemoryThereIsNoRegion) {
  auto clock = std::make_shared<ManualClock>();
  Inbox inbox;
  Scheduler s(manual_config(clock));
  EXPECT_EQ(s.shared_memory(), nullptr);
  const auto port = *s.open_port(inbox.deliver(2));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(s.submit(row_of(float(i)).data(), {.port = port}).accepted());
  auto batch = s.take();
  ASSERT_TRUE(batch.has_value());
  EXPECT_FALSE(s.shared_memory_offsets(batch->id).has_value());
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(batch->input) % 64, 0u);
  run_model(*batch, 3);
  EXPECT_TRUE(s.complete(batch->id));
}
