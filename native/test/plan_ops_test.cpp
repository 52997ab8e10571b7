// What each op computes, one value at a time, including the edge cases the doc calls out. Expected
// values are the doc's formula evaluated in double and rounded to float once.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "test_support.hpp"

using infergate::preprocess::compile;
using infergate::preprocess::Plan;
using infergate::test::f32;
using infergate::test::kInf;
using infergate::test::kNaN;
using infergate::test::one_feature;
using infergate::test::run_one;
using infergate::test::spec;

namespace {

using Row = std::vector<float>;

Plan number_plan(const std::string& steps, int width = 1, const std::string& missing = "reject") {
  return compile(one_feature("number", steps, width, missing));
}

// A string field "x" whose vocabulary is fixed first by a one_hot on another feature, so that the
// encoded indices used below are known: "a" = 0, "b" = 1, "c" = 2, "other" = 3.
Plan string_plan(const std::string& steps, int width, const std::string& missing = "reject") {
  return compile(spec(R"([{"name": "x", "type": "string", "missing": ")" + missing + R"("}])",
                      R"([{"field": "x", "steps": [{"op": "impute", "value": "a", "strategy": "constant"},
                           {"op": "one_hot", "categories": ["b", "c", "other"], "unknown": "ignore"}]},
                          {"field": "x", "steps": )" + steps + "}]",
                      3 + width));
}

// The columns of the second feature of a string_plan.
Row string_run(const Plan& plan, double x) {
  Row all = run_one(plan, x);
  return Row(all.begin() + 3, all.end());
}

}  // namespace

TEST(PlanOps, EmptyStepsPassNumbersAndBooleansThrough) {
  EXPECT_EQ(run_one(number_plan("[]"), 2.5), Row{2.5f});
  EXPECT_EQ(run_one(number_plan("[]"), 0.1), Row{f32(0.1)});
  auto boolean = compile(one_feature("boolean", "[]"));
  EXPECT_EQ(run_one(boolean, 1), Row{1.0f});
  EXPECT_EQ(run_one(boolean, 0), Row{0.0f});
}

TEST(PlanOps, ImputeReplacesOnlyNaN) {
  auto plan = number_plan(R"([{"op": "impute", "value": 37.25, "strategy": "median"}])", 1, "impute");
  EXPECT_EQ(run_one(plan, kNaN), Row{37.25f});
  EXPECT_EQ(run_one(plan, 3), Row{3.0f});
  EXPECT_EQ(run_one(plan, 0), Row{0.0f});
  EXPECT_EQ(run_one(plan, -kInf), Row{-std::numeric_limits<float>::infinity()});
}

TEST(PlanOps, ImputeBooleanWithTrue) {
  auto plan = compile(one_feature("boolean", R"([{"op": "impute", "value": true, "strategy": "most_frequent"}])", 1,
                                  "impute"));
  EXPECT_EQ(run_one(plan, kNaN), Row{1.0f});
  EXPECT_EQ(run_one(plan, 0), Row{0.0f});
}

TEST(PlanOps, ImputeStringUsesTheValuesVocabularyIndex) {
  // Missing (NaN) becomes "a" (index 0); an unknown string (-1) is not missing and stays unknown.
  auto plan = string_plan(R"([{"op": "impute", "value": "a", "strategy": "constant"},
                             {"op": "one_hot", "categories": ["a", "b"], "unknown": "bucket"}])",
                          3, "impute");
  EXPECT_EQ(string_run(plan, kNaN), (Row{1, 0, 0}));
  EXPECT_EQ(string_run(plan, 1), (Row{0, 1, 0}));
  EXPECT_EQ(string_run(plan, -1), (Row{0, 0, 1}));
  EXPECT_EQ(run_one(plan, kNaN)[0], 0.0f);  // the first feature sees "a" too: not one of its categories
}

TEST(PlanOps, Log1p) {
  auto plan = number_plan(R"([{"op": "log1p"}])");
  EXPECT_EQ(run_one(plan, 0), Row{0.0f});
  EXPECT_EQ(run_one(plan, 1e-10), Row{f32(std::log1p(1e-10))});  // log(1 + x) would lose this
  EXPECT_EQ(run_one(plan, 100), Row{f32(std::log1p(100.0))});
  EXPECT_EQ(run_one(plan, -1), Row{-std::numeric_limits<float>::infinity()});
  EXPECT_TRUE(std::isnan(run_one(plan, -2)[0]));
  EXPECT_TRUE(std::isnan(run_one(plan, kNaN)[0]));
}

TEST(PlanOps, StandardizeIsXMinusMeanOverScaleInDouble) {
  auto plan = number_plan(R"([{"op": "standardize", "mean": 3.71, "scale": 1.18}])");
  for (double x : {0.0, 3.71, 4.0, -12.5, 1e6}) EXPECT_EQ(run_one(plan, x), Row{f32((x - 3.71) / 1.18)}) << x;
  // 2^24 + 1 exists in double but not in float: computing in float would give 0, not 1.
  auto exact = number_plan(R"([{"op": "standardize", "mean": 16777216, "scale": 1}])");
  EXPECT_EQ(run_one(exact, 16777217), Row{1.0f});
  // Dividing by scale is not multiplying by 1/scale: 0.3 / 0.1 and 0.3 * (1 / 0.1) differ in double.
  auto divide = number_plan(R"([{"op": "standardize", "mean": 0, "scale": 0.1}])");
  EXPECT_EQ(run_one(divide, 0.3), Row{f32(0.3 / 0.1)});
}

TEST(PlanOps, MinMaxIsXTimesScalePlusOffset) {
  auto plan = number_plan(R"([{"op": "min_max", "scale": 0.04, "offset": -0.2}])");
  for (double x : {5.0, 0.0, 30.0, -1.0}) EXPECT_EQ(run_one(plan, x), Row{f32(x * 0.04 + -0.2)}) << x;
  auto exact = number_plan(R"([{"op": "min_max", "scale": 1, "offset": -16777216}])");
  EXPECT_EQ(run_one(exact, 16777217), Row{1.0f});
}

TEST(PlanOps, ClipBothSides) {
  auto plan = number_plan(R"([{"op": "clip", "min": -5, "max": 5}])");
  EXPECT_EQ(run_one(plan, -7), Row{-5.0f});
  EXPECT_EQ(run_one(plan, 7), Row{5.0f});
  EXPECT_EQ(run_one(plan, 4.5), Row{4.5f});
  EXPECT_EQ(run_one(plan, -5), Row{-5.0f});
  EXPECT_EQ(run_one(plan, kInf), Row{5.0f});
  EXPECT_EQ(run_one(plan, -kInf), Row{-5.0f});
  EXPECT_TRUE(std::isnan(run_one(plan, kNaN)[0]));  // NaN is not clipped (as numpy.clip)
}

TEST(PlanOps, ClipOneSided) {
  auto low = number_plan(R"([{"op": "clip", "min": 0}])");
  EXPECT_EQ(run_one(low, -3), Row{0.0f});
  EXPECT_EQ(run_one(low, 1e30), Row{1e30f});
  auto high = number_plan(R"([{"op": "clip", "max": 0}])");
  EXPECT_EQ(run_one(high, 3), Row{0.0f});
  EXPECT_EQ(run_one(high, -kInf), Row{-std::numeric_limits<float>::infinity()});
  auto point = number_plan(R"([{"op": "clip", "min": 2, "max": 2}])");
  EXPECT_EQ(run_one(point, -100), Row{2.0f});
}

TEST(PlanOps, BucketizeOrdinalCountsBoundariesAtOrBelow) {
  auto plan = number_plan(R"([{"op": "bucketize", "boundaries": [0, 10, 20], "encode": "ordinal"}])");
  EXPECT_EQ(run_one(plan, -1), Row{0.0f});
  EXPECT_EQ(run_one(plan, 0), Row{1.0f});  // exactly at a boundary: that boundary counts
  EXPECT_EQ(run_one(plan, 9.999), Row{1.0f});
  EXPECT_EQ(run_one(plan, 10), Row{2.0f});
  EXPECT_EQ(run_one(plan, 20), Row{3.0f});
  EXPECT_EQ(run_one(plan, 1e300), Row{3.0f});
  EXPECT_EQ(run_one(plan, -kInf), Row{0.0f});
  EXPECT_EQ(run_one(plan, kInf), Row{3.0f});
  EXPECT_EQ(run_one(plan, -0.0), Row{1.0f});
  EXPECT_TRUE(std::isnan(run_one(plan, kNaN)[0]));
}

TEST(PlanOps, BucketizeOneHot) {
  auto plan = number_plan(R"([{"op": "bucketize", "boundaries": [0, 10], "encode": "one_hot"}])", 3);
  EXPECT_EQ(run_one(plan, -0.5), (Row{1, 0, 0}));
  EXPECT_EQ(run_one(plan, 0), (Row{0, 1, 0}));
  EXPECT_EQ(run_one(plan, 10), (Row{0, 0, 1}));
  EXPECT_EQ(run_one(plan, kInf), (Row{0, 0, 1}));
  EXPECT_EQ(run_one(plan, kNaN), (Row{0, 0, 0}));
}

TEST(PlanOps, NaNFromLog1pThroughBucketize) {
  // The doc's case: log1p of a value below -1 is NaN; ordinal keeps it, one-hot writes zeros.
  auto ordinal = number_plan(R"([{"op": "log1p"}, {"op": "bucketize", "boundaries": [0], "encode": "ordinal"}])");
  EXPECT_TRUE(std::isnan(run_one(ordinal, -2)[0]));
  EXPECT_EQ(run_one(ordinal, 5), Row{1.0f});
  auto one_hot = number_plan(R"([{"op": "log1p"}, {"op": "bucketize", "boundaries": [0], "encode": "one_hot"}])", 2);
  EXPECT_EQ(run_one(one_hot, -2), (Row{0, 0}));
  EXPECT_EQ(run_one(one_hot, -1), (Row{1, 0}));  // log1p(-1) = -inf: below every boundary
}

TEST(PlanOps, OneHotUnknownBucket) {
  // Categories "c", "a": vocabulary a=0 b=1 c=2 other=3.
  auto plan = string_plan(R"([{"op": "one_hot", "categories": ["c", "a"], "unknown": "bucket"}])", 3);
  EXPECT_EQ(string_run(plan, 2), (Row{1, 0, 0}));
  EXPECT_EQ(string_run(plan, 0), (Row{0, 1, 0}));
  EXPECT_EQ(string_run(plan, 1), (Row{0, 0, 1}));  // in the field's vocabulary, not a category here
  EXPECT_EQ(string_run(plan, -1), (Row{0, 0, 1}));  // unknown string
  for (double bad : {kNaN, 4.0, 1e300, -2.0, 1.5, kInf, -kInf}) {
    EXPECT_EQ(string_run(plan, bad), (Row{0, 0, 1})) << "index " << bad << " counts as unknown";
  }
}

TEST(PlanOps, OneHotUnknownIgnore) {
  auto plan = string_plan(R"([{"op": "one_hot", "categories": ["c", "a"], "unknown": "ignore"}])", 2);
  EXPECT_EQ(string_run(plan, 2), (Row{1, 0}));
  EXPECT_EQ(string_run(plan, 0), (Row{0, 1}));
  EXPECT_EQ(string_run(plan, 1), (Row{0, 0}));
  EXPECT_EQ(string_run(plan, -1), (Row{0, 0}));
  EXPECT_EQ(string_run(plan, 7), (Row{0, 0}));
}

TEST(PlanOps, LookupAndDefault) {
  auto plan = string_plan(R"([{"op": "lookup", "table": {"b": 0.5, "other": -3}, "default": 9}])", 1);
  EXPECT_EQ(string_run(plan, 1), Row{0.5f});
  EXPECT_EQ(string_run(plan, 3), Row{-3.0f});
  EXPECT_EQ(string_run(plan, 0), Row{9.0f});   // a vocabulary word the table does not name
  EXPECT_EQ(string_run(plan, -1), Row{9.0f});  // an unknown string
  EXPECT_EQ(string_run(plan, kNaN), Row{9.0f});
  EXPECT_EQ(string_run(plan, 99), Row{9.0f});
}

TEST(PlanOps, LookupThenNumberSteps) {
  auto plan = string_plan(R"([{"op": "lookup", "table": {"b": 0.5}, "default": 0},
                             {"op": "standardize", "mean": 0.25, "scale": 0.1},
                             {"op": "clip", "max": 2}])",
                          1);
  EXPECT_EQ(string_run(plan, 1), Row{f32(std::min((0.5 - 0.25) / 0.1, 2.0))});
  EXPECT_EQ(string_run(plan, -1), Row{f32((0 - 0.25) / 0.1)});
}

TEST(PlanOps, ChainRoundsToFloatOnlyAtTheEnd) {
  auto plan = number_plan(R"([{"op": "impute", "value": 37.25, "strategy": "median"}, {"op": "log1p"},
                             {"op": "standardize", "mean": 3.71, "scale": 1.18}, {"op": "clip", "min": -5, "max": 5}])",
                          1, "impute");
  for (double x : {kNaN, 0.0, 1.0, 12.34, 5000.0, 1e12}) {
    double expected = std::min(std::max((std::log1p(std::isnan(x) ? 37.25 : x) - 3.71) / 1.18, -5.0), 5.0);
    EXPECT_EQ(run_one(plan, x), Row{f32(expected)}) << x;
  }
}
