// Native cost per request of the batch scheduler: claim + row copy + publish, seal, take, fan-out to
// the port, slab recycling. No preprocessing and no model (the "executor" completes batches as
// they come), so what is left is the scheduler's own overhead, which should stay far below a
// row's model time (~4-5 µs on CPU for the fraud model).
//
//   scheduler_bench [requests-per-run]      (scripts/bench-native.sh builds Release and runs it)
//
// Prints ns/request, the median of several runs, for 1 and 2 producer threads. Each producer thread
// also drains ready batches (take + complete), as a service thread would between requests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "core/batch_scheduler.hpp"

namespace sched = infergate::sched;

namespace {

constexpr std::uint32_t kInputWidth = 8;
constexpr std::uint32_t kOutputWidth = 1;
constexpr int kRuns = 7;

std::uint32_t drain(sched::Scheduler& s) {
  std::uint32_t n = 0;
  while (auto batch = s.take()) {
    batch->output[0] = 1.0f;  // the model's one write, so the output memory is touched
    s.complete(batch->id);
    ++n;
  }
  return n;
}

double run_once(int producers, std::uint64_t requests, std::uint32_t batch_size) {
  sched::SchedulerConfig c;
  c.max_batch_size = batch_size;
  c.max_queue_delay_microseconds = 1'000'000;  // seal on size only: the timer stays out of the way
  c.input_width = kInputWidth;
  c.output_width = kOutputWidth;
  c.slab_count = 16;
  sched::Scheduler s(c);
  std::atomic<std::uint64_t> delivered{0};

  const std::uint64_t per_thread = requests / static_cast<std::uint64_t>(producers);
  std::vector<std::uint64_t> ports;
  for (int p = 0; p < producers; ++p) {
    ports.push_back(*s.open_port([&delivered](std::span<const sched::Completion> done) {
      delivered.fetch_add(done.size(), std::memory_order_relaxed);
    }));
  }
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  auto producer = [&](int p) {
    std::vector<float> row(kInputWidth, 0.5f);
    const sched::Request request{.port = ports[static_cast<std::size_t>(p)]};
    ++ready;
    while (!go.load()) {
    }
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      while (!s.submit(row.data(), request).accepted()) drain(s);  // every slab busy: run some
      if ((i & 63) == 63) drain(s);
    }
  };
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) threads.emplace_back(producer, p);
  while (ready.load() < producers) {
  }
  const auto start = std::chrono::steady_clock::now();
  go = true;
  for (auto& t : threads) t.join();
  s.flush();
  drain(s);
  const auto end = std::chrono::steady_clock::now();
  const std::uint64_t total = per_thread * static_cast<std::uint64_t>(producers);
  if (delivered.load() != total) {
    auto st = s.stats();
    std::fprintf(stderr, "delivered %llu of %llu; depth %llu ready %llu accepted %llu\n", static_cast<unsigned long long>(delivered.load()),
                 static_cast<unsigned long long>(total), static_cast<unsigned long long>(st.queue_depth), static_cast<unsigned long long>(st.ready_batches), static_cast<unsigned long long>(st.accepted));
    s.close();
    std::fprintf(stderr, "after close %llu\n", static_cast<unsigned long long>(delivered.load()));
    std::exit(1);
  }
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()) /
         static_cast<double>(total);
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  std::printf("scheduler_bench: %llu requests per run, median of %d runs, input %u floats, output %u\n",
              static_cast<unsigned long long>(requests), kRuns, kInputWidth, kOutputWidth);
  std::printf("%-10s %-11s %12s %12s %12s\n", "producers", "batch size", "ns/request", "min", "max");
  for (std::uint32_t batch_size : {16u, 64u, 256u}) {
    for (int producers : {1, 2}) {
      std::vector<double> ns;
      for (int r = 0; r < kRuns; ++r) ns.push_back(run_once(producers, requests, batch_size));
      std::sort(ns.begin(), ns.end());
      std::printf("%-10d %-11u %12.1f %12.1f %12.1f\n", producers, batch_size, ns[kRuns / 2], ns.front(), ns.back());
    }
  }
  return 0;
}
