// Plan::run() over batches: row-major layout, every output cell written, nothing outside the output
// touched, any input accepted, and one plan shared by several threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "test_support.hpp"

using infergate::preprocess::compile;
using infergate::preprocess::Plan;
using infergate::test::f32;
using infergate::test::kDocExample;
using infergate::test::kInf;
using infergate::test::kNaN;
using infergate::test::run_guarded;

namespace {

// The doc example's amount feature, computed here independently.
float amount(double x) {
  if (std::isnan(x)) x = 37.25;
  return f32(std::min(std::max((std::log1p(x) - 3.71) / 1.18, -5.0), 5.0));
}

// merchant_category vocabulary: missing=0, grocery=1, fuel=2.
constexpr double kMissingWord = 0, kGrocery = 1, kFuel = 2;

}  // namespace

TEST(PlanRun, DocExampleBatch) {
  Plan plan = compile(kDocExample);
  // amount, merchant_category, card_present
  std::vector<double> raw = {
      120.5, kGrocery,    1,  //
      kNaN,  kFuel,       0,  // amount missing: imputed
      3,     kNaN,        1,  // merchant missing: imputed "missing", not a category: unknown bucket
      0,     -1,          0,  // unknown merchant
      7,     kMissingWord, 1,  // the string "missing" itself
  };
  const std::vector<double> before = raw;
  std::vector<float> out = run_guarded(plan, raw, 5);
  std::vector<float> expected = {
      amount(120.5), 1, 0, 0, 1,  //
      amount(kNaN),  0, 1, 0, 0,  //
      amount(3),     0, 0, 1, 1,  //
      amount(0),     0, 0, 1, 0,  //
      amount(7),     0, 0, 1, 1,  //
  };
  EXPECT_EQ(out, expected);
  EXPECT_EQ(std::memcmp(raw.data(), before.data(), raw.size() * sizeof(double)), 0);  // input untouched
}

TEST(PlanRun, ZeroRowsWritesNothing) {
  Plan plan = compile(kDocExample);
  float out[4] = {1, 2, 3, 4};
  plan.run(nullptr, 0, out);
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[3], 4.0f);
}

TEST(PlanRun, FeaturesReadTheirOwnFieldInOrder) {
  // Fields out of feature order, one field feeding two features, one field unused.
  Plan plan = compile(infergate::test::spec(
      R"([{"name": "a", "type": "number", "missing": "reject"},
          {"name": "unused", "type": "string", "missing": "reject"},
          {"name": "b", "type": "number", "missing": "reject"}])",
      R"([{"field": "b", "steps": []},
          {"field": "a", "steps": [{"op": "bucketize", "boundaries": [0], "encode": "one_hot"}]},
          {"field": "b", "steps": [{"op": "min_max", "scale": 2, "offset": 1}]}])",
      4));
  std::vector<double> raw = {-1, 99, 10, 5, kNaN, 20};
  EXPECT_EQ(run_guarded(plan, raw, 2), (std::vector<float>{10, 1, 0, 21, 20, 0, 1, 41}));
}

TEST(PlanRun, AnyInputStaysInBounds) {
  // Every encoding a buggy caller could send: the plan never reads or writes outside its buffers.
  Plan plan = compile(kDocExample);
  const double nasty[] = {kNaN, -kNaN, kInf, -kInf, 0, -0.0, -1, 1, 2, 3, 4, -2, 0.5, 2.9999999,
                          1e300, -1e300, 4294967296.0, 2147483648.0, -2147483649.0, 5e-324};
  std::vector<double> raw;
  for (double a : nasty) {
    for (double m : nasty) {
      for (double c : nasty) raw.insert(raw.end(), {a, m, c});
    }
  }
  std::size_t rows = raw.size() / 3;
  std::vector<float> out = run_guarded(plan, raw, rows);
  for (std::size_t r = 0; r < rows; ++r) {
    // The one-hot block always holds zeros and at most one 1.
    float sum = out[r * 5 + 1] + out[r * 5 + 2] + out[r * 5 + 3];
    EXPECT_EQ(sum, 1.0f) << "row " << r;  // unknown: bucket
  }
}

TEST(PlanRun, RandomBatchesMatchRowByRow) {
  // A batch gives exactly what the same rows give one at a time.
  Plan plan = compile(kDocExample);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> amount_dist(-0.5, 1e5);
  std::uniform_int_distribution<int> word(-1, 3);
  std::vector<double> raw;
  const std::size_t rows = 257;
  for (std::size_t r = 0; r < rows; ++r) {
    raw.push_back(r % 11 == 0 ? kNaN : amount_dist(rng));
    raw.push_back(r % 13 == 0 ? kNaN : word(rng));
    raw.push_back(static_cast<double>(r % 2));
  }
  std::vector<float> batch = run_guarded(plan, raw, rows);
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<double> one(raw.begin() + static_cast<std::ptrdiff_t>(r * 3),
                            raw.begin() + static_cast<std::ptrdiff_t>(r * 3 + 3));
    std::vector<float> single = run_guarded(plan, one, 1);
    ASSERT_EQ(std::vector<float>(batch.begin() + static_cast<std::ptrdiff_t>(r * 5),
                                 batch.begin() + static_cast<std::ptrdiff_t>(r * 5 + 5)),
              single)
        << "row " << r;
    EXPECT_EQ(single[0], amount(raw[r * 3]));
  }
}

TEST(PlanRun, OnePlanManyThreads) {
  // A Plan is immutable: concurrent run() calls need no locking (checked under ThreadSanitizer).
  const Plan plan = compile(kDocExample);
  const std::size_t rows = 512;
  std::vector<double> raw;
  for (std::size_t r = 0; r < rows; ++r) {
    raw.insert(raw.end(), {static_cast<double>(r), static_cast<double>(r % 5) - 1, static_cast<double>(r % 2)});
  }
  std::vector<float> reference(rows * plan.width());
  plan.run(raw.data(), rows, reference.data());

  std::vector<std::vector<float>> outputs(4, std::vector<float>(rows * plan.width()));
  std::vector<std::thread> threads;
  for (auto& out : outputs) {
    threads.emplace_back([&plan, &raw, &out] {
      for (int repeat = 0; repeat < 20; ++repeat) plan.run(raw.data(), rows, out.data());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& out : outputs) EXPECT_EQ(out, reference);
}

TEST(PlanRun, PlansAreIndependentValues) {
  // Copies and moves keep working after the original is gone.
  std::vector<float> expected;
  Plan copy = compile(kDocExample);
  {
    Plan original = compile(kDocExample);
    expected = run_guarded(original, {1, 1, 1}, 1);
    copy = original;
  }
  Plan moved = std::move(copy);
  EXPECT_EQ(run_guarded(moved, {1, 1, 1}, 1), expected);
}
