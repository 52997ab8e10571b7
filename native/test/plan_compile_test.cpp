// compile(): what a valid spec yields, and the exact error each validation rule gives. Each message
// starts with where the problem is, down to the step.
#include <gtest/gtest.h>

#include <string>

#include "test_support.hpp"

using infergate::preprocess::compile;
using infergate::preprocess::FieldType;
using infergate::preprocess::MissingPolicy;
using infergate::preprocess::PlanError;
using infergate::test::kDocExample;
using infergate::test::one_feature;
using infergate::test::plan_error;
using infergate::test::spec;

namespace {

const std::string kAmount = R"({"name": "amount", "type": "number", "missing": "reject"})";
const std::string kMerchant = R"({"name": "merchant", "type": "string", "missing": "reject"})";

// A number feature on "amount" whose only step is `step`.
std::string amount_step(const std::string& step, int width = 1) {
  return spec("[" + kAmount + "]", R"([{"field": "amount", "steps": [)" + step + "]}]", width);
}

// A string feature on "merchant" with `steps`.
std::string merchant_steps(const std::string& steps, int width) {
  return spec("[" + kMerchant + "]", R"([{"field": "merchant", "steps": [)" + steps + "]}]", width);
}

}  // namespace

// ---- What a valid spec compiles to ----

TEST(PlanCompile, DocExampleCompiles) {
  auto plan = compile(kDocExample);
  EXPECT_EQ(plan.width(), 5u);
  EXPECT_EQ(plan.output_name(), "features");
  ASSERT_EQ(plan.field_count(), 3u);
  const auto& f = plan.fields();
  EXPECT_EQ(f[0].name, "amount");
  EXPECT_EQ(f[0].type, FieldType::number);
  EXPECT_EQ(f[0].missing, MissingPolicy::impute);
  EXPECT_EQ(f[0].min, 0.0);
  EXPECT_FALSE(f[0].max.has_value());
  EXPECT_TRUE(f[0].vocabulary.empty());
  EXPECT_EQ(f[1].type, FieldType::string);
  EXPECT_EQ(f[1].vocabulary, (std::vector<std::string>{"missing", "grocery", "fuel"}));
  EXPECT_EQ(f[2].type, FieldType::boolean);
  EXPECT_EQ(f[2].missing, MissingPolicy::reject);
}

TEST(PlanCompile, DocExampleAsPrintedHasTheWrongWidth) {
  std::string as_printed = kDocExample;
  as_printed.replace(as_printed.find("\"width\": 5"), 10, "\"width\": 6");
  EXPECT_EQ(plan_error(as_printed), "output: key \"width\" is 6, but the features produce 5 columns");
}

TEST(PlanCompile, VocabularyIsFirstSeenOrderAcrossFeatures) {
  auto plan = compile(spec(R"([{"name": "c", "type": "string", "missing": "impute"}])", R"([
      {"field": "c", "steps": [{"op": "impute", "value": "none", "strategy": "constant"},
                               {"op": "lookup", "table": {"b": 1, "none": 0, "z": 2}, "default": -1}]},
      {"field": "c", "steps": [{"op": "impute", "value": "b", "strategy": "most_frequent"},
                               {"op": "one_hot", "categories": ["a", "z", "b"], "unknown": "ignore"}]}])",
                           4));
  EXPECT_EQ(plan.fields()[0].vocabulary, (std::vector<std::string>{"none", "b", "z", "a"}));
}

TEST(PlanCompile, FieldsMayGoUnusedOrFeedSeveralFeatures) {
  auto plan = compile(spec("[" + kAmount + "," + kMerchant + R"(, {"name": "n", "type": "number", "missing": "reject",
                               "min": -1, "max": 1}])",
                           R"([{"field": "n", "steps": []}, {"field": "n", "steps": [{"op": "log1p"}]}])", 2));
  EXPECT_EQ(plan.field_count(), 3u);
  EXPECT_EQ(plan.width(), 2u);
  EXPECT_TRUE(plan.fields()[1].vocabulary.empty());  // unused string field: nothing names a string
  EXPECT_EQ(plan.fields()[2].min, -1.0);
  EXPECT_EQ(plan.fields()[2].max, 1.0);
}

TEST(PlanCompile, OptionalFormsAreAccepted) {
  EXPECT_NO_THROW(compile(amount_step(R"({"op": "clip", "min": 1, "max": 1})")));  // min == max
  EXPECT_NO_THROW(compile(amount_step(R"({"op": "clip", "max": 0})")));
  EXPECT_NO_THROW(compile(amount_step(R"({"op": "standardize", "mean": 0, "scale": -2})")));  // negative scale
  EXPECT_NO_THROW(compile(amount_step(R"({"op": "min_max", "scale": 0, "offset": 0})")));    // constant column
  EXPECT_NO_THROW(compile(merchant_steps(R"({"op": "lookup", "table": {}, "default": 0})", 1)));
  // A field that is never missing may still be imputed (the step never fires).
  EXPECT_NO_THROW(compile(amount_step(R"({"op": "impute", "value": 1, "strategy": "mean"})")));
  // Booleans impute with true/false or with a number (scikit-learn imputes a mean of 0/1 values).
  EXPECT_NO_THROW(compile(one_feature("boolean", R"([{"op": "impute", "value": true, "strategy": "constant"}])", 1,
                                      "impute")));
  EXPECT_NO_THROW(compile(one_feature("boolean", R"([{"op": "impute", "value": 0.25, "strategy": "mean"}])", 1,
                                      "impute")));
  EXPECT_NO_THROW(compile(one_feature("boolean", R"([{"op": "bucketize", "boundaries": [0.5], "encode": "one_hot"}])", 2)));
}

TEST(PlanCompile, MalformedJsonIsAJsonError) {
  EXPECT_THROW(compile("{\"format\": "), infergate::json::JsonError);
  EXPECT_THROW(compile(""), infergate::json::JsonError);
}

// ---- The messages the doc gives as examples ----

TEST(PlanCompile, DocMessageStandardizeScale) {
  std::string text = spec("[" + kAmount + "]", R"([
      {"field": "amount", "steps": []}, {"field": "amount", "steps": []},
      {"field": "amount", "steps": [{"op": "log1p"}, {"op": "standardize", "mean": 3.71, "scale": 0}]}])",
                          3);
  EXPECT_EQ(plan_error(text),
            "features[2] (field \"amount\") steps[1] (standardize): parameter \"scale\" must be a non-zero finite number");
}

TEST(PlanCompile, DocMessageUnknownField) {
  EXPECT_EQ(plan_error(spec("[" + kAmount + "]", R"([{"field": "amout", "steps": []}])", 1)),
            "features[0]: unknown field \"amout\"");
}

TEST(PlanCompile, DocMessageUnknownOp) {
  std::string text = spec(R"([{"name": "x", "type": "number", "missing": "reject"}])",
                          R"([{"field": "x", "steps": []}, {"field": "x", "steps": [{"op": "log2"}]}])", 2);
  EXPECT_EQ(plan_error(text), "features[1] (field \"x\") steps[0]: unknown op \"log2\"");
}

// ---- Top level and output ----

TEST(PlanCompile, TopLevel) {
  EXPECT_EQ(plan_error("[]"), "top level: expected an object, got an array");
  EXPECT_EQ(plan_error(R"({"fields": [], "features": [], "output": {}})"), "top level: missing key \"format\"");
  EXPECT_EQ(plan_error(R"({"format": "infergate.preprocess/2"})"),
            "top level: key \"format\" must be \"infergate.preprocess/1\", got \"infergate.preprocess/2\"");
  EXPECT_EQ(plan_error(R"({"format": 1})"), "top level: key \"format\" must be \"infergate.preprocess/1\", got a number");
  EXPECT_EQ(plan_error(R"({"fromat": "infergate.preprocess/1"})"),
            "top level: unknown key \"fromat\" (expected \"format\", \"fields\", \"features\", \"output\")");
  EXPECT_EQ(plan_error(R"({"format": "infergate.preprocess/1", "fields": {}})"),
            "top level: key \"fields\" must be an array");
  EXPECT_EQ(plan_error(spec("[" + kAmount + "]", "[]", 1)), "top level: key \"features\" must be a non-empty array");
  EXPECT_EQ(plan_error(spec("[" + kAmount + "]", "{}", 1)), "top level: key \"features\" must be a non-empty array");
}

TEST(PlanCompile, Output) {
  const std::string head = R"({"format": "infergate.preprocess/1", "fields": [)" + kAmount +
                           R"(], "features": [{"field": "amount", "steps": []}], )";
  EXPECT_EQ(plan_error(head + R"("x": 1})"),
            "top level: unknown key \"x\" (expected \"format\", \"fields\", \"features\", \"output\")");
  EXPECT_EQ(plan_error(head.substr(0, head.size() - 2) + "}"), "top level: missing key \"output\"");
  EXPECT_EQ(plan_error(head + R"("output": [1]})"), "output: expected an object, got an array");
  EXPECT_EQ(plan_error(head + R"("output": {"width": 1}})"), "output: missing key \"name\"");
  EXPECT_EQ(plan_error(head + R"("output": {"name": "", "width": 1}})"), "output: key \"name\" must be a non-empty string");
  EXPECT_EQ(plan_error(head + R"("output": {"name": 3, "width": 1}})"), "output: key \"name\" must be a string, got a number");
  EXPECT_EQ(plan_error(head + R"("output": {"name": "f"}})"), "output: missing key \"width\"");
  for (const char* w : {"0", "-1", "1.5", "\"1\"", "1e10", "null"}) {
    EXPECT_EQ(plan_error(head + R"("output": {"name": "f", "width": )" + w + "}}"),
              "output: key \"width\" must be a positive integer")
        << w;
  }
  EXPECT_EQ(plan_error(head + R"("output": {"name": "f", "width": 2}})"),
            "output: key \"width\" is 2, but the features produce 1 columns");
  EXPECT_EQ(plan_error(head + R"("output": {"name": "f", "width": 1, "dtype": "float32"}})"),
            "output: unknown key \"dtype\" (expected \"name\", \"width\")");
}

// ---- fields ----

TEST(PlanCompile, Fields) {
  auto with_field = [](const std::string& field) {
    return spec("[" + field + "]", R"([{"field": "a", "steps": []}])", 1);
  };
  EXPECT_EQ(plan_error(with_field("3")), "fields[0]: expected an object, got a number");
  EXPECT_EQ(plan_error(with_field(R"({"type": "number", "missing": "reject"})")), "fields[0]: missing key \"name\"");
  EXPECT_EQ(plan_error(with_field(R"({"name": "", "type": "number", "missing": "reject"})")),
            "fields[0]: key \"name\" must be a non-empty string");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "int", "missing": "reject"})")),
            "fields[0] (name \"a\"): key \"type\" must be one of \"number\", \"string\", \"boolean\", got \"int\"");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "number"})")), "fields[0] (name \"a\"): missing key \"missing\"");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "number", "missing": "drop"})")),
            "fields[0] (name \"a\"): key \"missing\" must be one of \"impute\", \"reject\", got \"drop\"");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "number", "missing": "reject", "nullable": true})")),
            "fields[0] (name \"a\"): unknown key \"nullable\" (expected \"name\", \"type\", \"missing\", \"min\", \"max\")");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "string", "missing": "reject", "min": 0})")),
            "fields[0] (name \"a\"): key \"min\" is only allowed on number fields (this one is string)");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "boolean", "missing": "reject", "max": 1})")),
            "fields[0] (name \"a\"): key \"max\" is only allowed on number fields (this one is boolean)");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "number", "missing": "reject", "min": "0"})")),
            "fields[0] (name \"a\"): key \"min\" must be a finite number");
  EXPECT_EQ(plan_error(with_field(R"({"name": "a", "type": "number", "missing": "reject", "min": 2, "max": 1.5})")),
            "fields[0] (name \"a\"): key \"min\" (2) is greater than key \"max\" (1.5)");
  EXPECT_EQ(plan_error(spec(R"([{"name": "a", "type": "number", "missing": "reject"},
                                {"name": "a", "type": "string", "missing": "reject"}])",
                            R"([{"field": "a", "steps": []}])", 1)),
            "fields[1] (name \"a\"): duplicate name: fields[0] has it too");
}

// ---- features ----

TEST(PlanCompile, Features) {
  auto with_feature = [](const std::string& feature) { return spec("[" + kAmount + "]", "[" + feature + "]", 1); };
  EXPECT_EQ(plan_error(with_feature("[]")), "features[0]: expected an object, got an array");
  EXPECT_EQ(plan_error(with_feature(R"({"steps": []})")), "features[0]: missing key \"field\"");
  EXPECT_EQ(plan_error(with_feature(R"({"field": 0, "steps": []})")), "features[0]: key \"field\" must be a string, got a number");
  EXPECT_EQ(plan_error(with_feature(R"({"field": "amount"})")), "features[0] (field \"amount\"): missing key \"steps\"");
  EXPECT_EQ(plan_error(with_feature(R"({"field": "amount", "steps": {}})")),
            "features[0] (field \"amount\"): key \"steps\" must be an array, got an object");
  EXPECT_EQ(plan_error(with_feature(R"({"field": "amount", "steps": [], "name": "amt"})")),
            "features[0] (field \"amount\"): unknown key \"name\" (expected \"field\", \"steps\")");
}

TEST(PlanCompile, NamesInMessagesAreQuotedAndShortened) {
  EXPECT_EQ(plan_error(spec("[" + kAmount + "]", R"([{"field": "a\"b\n", "steps": []}])", 1)),
            "features[0]: unknown field \"a\\\"b\\u000a\"");
  std::string long_name(200, 'n');
  EXPECT_EQ(plan_error(spec("[" + kAmount + "]", R"([{"field": ")" + long_name + R"(", "steps": []}])", 1)),
            "features[0]: unknown field \"" + std::string(80, 'n') + "...\"");
}

// ---- steps: shape ----

TEST(PlanCompile, StepShape) {
  const std::string at = "features[0] (field \"amount\") steps[0]";
  EXPECT_EQ(plan_error(amount_step("\"log1p\"")), at + ": expected an object, got a string");
  EXPECT_EQ(plan_error(amount_step("{}")), at + ": missing key \"op\"");
  EXPECT_EQ(plan_error(amount_step(R"({"op": ["log1p"]})")), at + ": key \"op\" must be a string, got an array");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "Log1p"})")), at + ": unknown op \"Log1p\"");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "log1p", "base": 2})")),
            at + " (log1p): unknown parameter \"base\" (it takes none)");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "standardize", "mean": 1, "sclae": 2})")),
            at + " (standardize): unknown parameter \"sclae\" (expected \"mean\", \"scale\")");
}

// ---- steps: parameters of each op ----

TEST(PlanCompile, StandardizeParameters) {
  const std::string at = "features[0] (field \"amount\") steps[0] (standardize): ";
  EXPECT_EQ(plan_error(amount_step(R"({"op": "standardize", "scale": 2})")), at + "missing parameter \"mean\"");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "standardize", "mean": 1})")), at + "missing parameter \"scale\"");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "standardize", "mean": "1", "scale": 2})")),
            at + "parameter \"mean\" must be a finite number");
  for (const char* scale : {"0", "-0", "\"2\"", "null", "1e-400"}) {
    EXPECT_EQ(plan_error(amount_step(R"({"op": "standardize", "mean": 1, "scale": )" + std::string(scale) + "}")),
              at + "parameter \"scale\" must be a non-zero finite number")
        << scale;
  }
}

TEST(PlanCompile, MinMaxParameters) {
  const std::string at = "features[0] (field \"amount\") steps[0] (min_max): ";
  EXPECT_EQ(plan_error(amount_step(R"({"op": "min_max", "scale": 2})")), at + "missing parameter \"offset\"");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "min_max", "scale": true, "offset": 0})")),
            at + "parameter \"scale\" must be a finite number");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "min_max", "min": 0, "max": 1})")),
            at + "unknown parameter \"min\" (expected \"scale\", \"offset\")");
}

TEST(PlanCompile, ClipParameters) {
  const std::string at = "features[0] (field \"amount\") steps[0] (clip): ";
  EXPECT_EQ(plan_error(amount_step(R"({"op": "clip"})")), at + "needs parameter \"min\" or \"max\" (or both)");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "clip", "min": 5, "max": -5})")),
            at + "parameter \"min\" (5) is greater than parameter \"max\" (-5)");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "clip", "min": null})")), at + "parameter \"min\" must be a finite number");
}

TEST(PlanCompile, BucketizeParameters) {
  const std::string at = "features[0] (field \"amount\") steps[0] (bucketize): ";
  auto bucketize = [](const std::string& params) { return amount_step(R"({"op": "bucketize", )" + params + "}"); };
  EXPECT_EQ(plan_error(bucketize(R"("encode": "ordinal")")), at + "missing parameter \"boundaries\"");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": [], "encode": "ordinal")")),
            at + "parameter \"boundaries\" must be a non-empty array of numbers");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": 3, "encode": "ordinal")")),
            at + "parameter \"boundaries\" must be a non-empty array of numbers");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": [1, "2"], "encode": "ordinal")")),
            at + "parameter \"boundaries\": element [1] must be a finite number, got a string");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": [1, 3, 3], "encode": "ordinal")")),
            at + "parameter \"boundaries\" must be strictly increasing, but element [2] (3) follows 3");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": [1, 0.5], "encode": "ordinal")")),
            at + "parameter \"boundaries\" must be strictly increasing, but element [1] (0.5) follows 1");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": [1])")), at + "missing parameter \"encode\"");
  EXPECT_EQ(plan_error(bucketize(R"("boundaries": [1], "encode": "onehot")")),
            at + "parameter \"encode\" must be one of \"ordinal\", \"one_hot\", got \"onehot\"");
}

TEST(PlanCompile, OneHotParameters) {
  const std::string at = "features[0] (field \"merchant\") steps[0] (one_hot): ";
  auto one_hot = [](const std::string& params) { return merchant_steps(R"({"op": "one_hot", )" + params + "}", 3); };
  EXPECT_EQ(plan_error(one_hot(R"("unknown": "ignore")")), at + "missing parameter \"categories\"");
  EXPECT_EQ(plan_error(one_hot(R"("categories": [], "unknown": "ignore")")),
            at + "parameter \"categories\" must be a non-empty array of strings");
  EXPECT_EQ(plan_error(one_hot(R"("categories": ["a", 2], "unknown": "ignore")")),
            at + "parameter \"categories\": element [1] must be a string, got a number");
  EXPECT_EQ(plan_error(one_hot(R"("categories": ["a", "b", "a"], "unknown": "ignore")")),
            at + "parameter \"categories\" must be distinct, but lists \"a\" twice");
  EXPECT_EQ(plan_error(one_hot(R"("categories": ["a", "b"])")), at + "missing parameter \"unknown\"");
  EXPECT_EQ(plan_error(one_hot(R"("categories": ["a", "b"], "unknown": "error")")),
            at + "parameter \"unknown\" must be one of \"bucket\", \"ignore\", got \"error\"");
}

TEST(PlanCompile, LookupParameters) {
  const std::string at = "features[0] (field \"merchant\") steps[0] (lookup): ";
  auto lookup = [](const std::string& params) { return merchant_steps(R"({"op": "lookup", )" + params + "}", 1); };
  EXPECT_EQ(plan_error(lookup(R"("default": 0)")), at + "missing parameter \"table\"");
  EXPECT_EQ(plan_error(lookup(R"("table": [["a", 1]], "default": 0)")),
            at + "parameter \"table\" must be an object mapping strings to numbers, got an array");
  EXPECT_EQ(plan_error(lookup(R"("table": {"a": 1, "b": "2"}, "default": 0)")),
            at + "parameter \"table\": the value for \"b\" must be a finite number, got a string");
  EXPECT_EQ(plan_error(lookup(R"("table": {"a": 1})")), at + "missing parameter \"default\"");
  EXPECT_EQ(plan_error(lookup(R"("table": {"a": 1}, "default": null)")), at + "parameter \"default\" must be a finite number");
}

TEST(PlanCompile, ImputeParameters) {
  const std::string at = "features[0] (field \"x\") steps[0] (impute): ";
  auto num = [](const std::string& params) {
    return one_feature("number", R"([{"op": "impute", )" + params + "}]", 1, "impute");
  };
  auto str = [](const std::string& params) {
    return one_feature("string", R"([{"op": "impute", )" + params + R"(}, {"op": "lookup", "table": {}, "default": 0}])",
                       1, "impute");
  };
  EXPECT_EQ(plan_error(num(R"("value": 1)")), at + "missing parameter \"strategy\"");
  EXPECT_EQ(plan_error(num(R"("strategy": "mean")")), at + "missing parameter \"value\"");
  EXPECT_EQ(plan_error(num(R"("value": 1, "strategy": "avg")")),
            at + "parameter \"strategy\" must be one of \"mean\", \"median\", \"most_frequent\", \"constant\", got \"avg\"");
  EXPECT_EQ(plan_error(num(R"("value": "1", "strategy": "mean")")), at + "parameter \"value\" must be a finite number");
  EXPECT_EQ(plan_error(num(R"("value": true, "strategy": "constant")")), at + "parameter \"value\" must be a finite number");
  EXPECT_EQ(plan_error(str(R"("value": 1, "strategy": "constant")")),
            at + "parameter \"value\" must be a string, as field \"x\" is");
  EXPECT_EQ(plan_error(str(R"("value": "a", "strategy": "median")")),
            at + "parameter \"strategy\" cannot be mean or median for a string field");
  EXPECT_EQ(plan_error(num(R"("value": 1, "strategy": "mean", "fill": 0)")),
            at + "unknown parameter \"fill\" (expected \"value\", \"strategy\")");
}

// ---- steps: order and the kind of value flowing between them ----

TEST(PlanCompile, ImputeMustComeFirst) {
  EXPECT_EQ(plan_error(one_feature("number", R"([{"op": "log1p"}, {"op": "impute", "value": 0, "strategy": "mean"}])")),
            "features[0] (field \"x\") steps[1] (impute): impute must be the first step");
}

TEST(PlanCompile, ImputedFieldsMustBeImputedByEveryFeature) {
  const std::string msg = "features[0] (field \"x\"): field \"x\" has missing \"impute\", so the first step must be impute";
  EXPECT_EQ(plan_error(one_feature("number", "[]", 1, "impute")), msg);
  EXPECT_EQ(plan_error(one_feature("number", R"([{"op": "log1p"}])", 1, "impute")), msg);
  EXPECT_EQ(plan_error(one_feature("boolean", "[]", 1, "impute")), msg);
  // The second feature on the same field forgets it.
  EXPECT_EQ(plan_error(spec(R"([{"name": "x", "type": "number", "missing": "impute"}])",
                            R"([{"field": "x", "steps": [{"op": "impute", "value": 0, "strategy": "median"}]},
                                {"field": "x", "steps": [{"op": "log1p"}]}])",
                            2)),
            "features[1] (field \"x\"): field \"x\" has missing \"impute\", so the first step must be impute");
}

TEST(PlanCompile, NumberOpsNeedNumbers) {
  for (const char* op : {R"({"op": "log1p"})", R"({"op": "standardize", "mean": 0, "scale": 1})",
                         R"({"op": "min_max", "scale": 1, "offset": 0})", R"({"op": "clip", "min": 0})",
                         R"({"op": "bucketize", "boundaries": [0], "encode": "ordinal"})"}) {
    std::string message = plan_error(merchant_steps(op, 1));
    EXPECT_NE(message.find("steps[0] ("), std::string::npos) << message;
    EXPECT_NE(message.find("): needs a number input, but the value here is a string"), std::string::npos) << message;
  }
}

TEST(PlanCompile, StringOpsNeedStrings) {
  EXPECT_EQ(plan_error(amount_step(R"({"op": "one_hot", "categories": ["a"], "unknown": "ignore"})")),
            "features[0] (field \"amount\") steps[0] (one_hot): needs a string input, but the value here is a number");
  EXPECT_EQ(plan_error(one_feature("boolean", R"([{"op": "lookup", "table": {"true": 1}, "default": 0}])")),
            "features[0] (field \"x\") steps[0] (lookup): needs a string input, but the value here is a number");
  // lookup turns a string into a number: a second string op no longer fits.
  EXPECT_EQ(plan_error(merchant_steps(R"({"op": "lookup", "table": {"a": 1}, "default": 0},
                                        {"op": "one_hot", "categories": ["a"], "unknown": "ignore"})",
                                      1)),
            "features[0] (field \"merchant\") steps[1] (one_hot): needs a string input, but the value here is a number");
}

TEST(PlanCompile, LookupThenNumberOpsIsFine) {
  EXPECT_NO_THROW(compile(merchant_steps(R"({"op": "lookup", "table": {"a": 1}, "default": 0}, {"op": "log1p"},
                                           {"op": "bucketize", "boundaries": [0.5], "encode": "one_hot"})",
                                         2)));
}

TEST(PlanCompile, StringFeaturesMustEndAsNumbers) {
  const std::string msg = "features[0] (field \"merchant\"): ends with a string value; a string field needs a one_hot or lookup step";
  EXPECT_EQ(plan_error(merchant_steps("", 1)), msg);
  EXPECT_EQ(plan_error(merchant_steps(R"({"op": "impute", "value": "a", "strategy": "constant"})", 1)), msg);
}

TEST(PlanCompile, TerminalStepsMustBeLast) {
  EXPECT_EQ(plan_error(merchant_steps(R"({"op": "one_hot", "categories": ["a"], "unknown": "ignore"}, {"op": "log1p"})", 1)),
            "features[0] (field \"merchant\") steps[1] (log1p): follows steps[0], which outputs one-hot columns; a "
            "terminal step must be the last one");
  EXPECT_EQ(plan_error(amount_step(R"({"op": "bucketize", "boundaries": [0], "encode": "one_hot"},
                                     {"op": "clip", "min": 0})",
                                   2)),
            "features[0] (field \"amount\") steps[1] (clip): follows steps[0], which outputs one-hot columns; a "
            "terminal step must be the last one");
  // Ordinal bucketize is not terminal.
  EXPECT_NO_THROW(compile(amount_step(R"({"op": "bucketize", "boundaries": [0], "encode": "ordinal"}, {"op": "log1p"})")));
}

TEST(PlanCompile, WidthCountsOneHotColumns) {
  // 1 (number) + 3 categories + 1 bucket + 0 (ignore adds none: 2) + 3 buckets from 2 boundaries.
  std::string text = spec("[" + kAmount + "," + kMerchant + "]", R"([
      {"field": "amount", "steps": []},
      {"field": "merchant", "steps": [{"op": "one_hot", "categories": ["a", "b", "c"], "unknown": "bucket"}]},
      {"field": "merchant", "steps": [{"op": "one_hot", "categories": ["a", "b"], "unknown": "ignore"}]},
      {"field": "amount", "steps": [{"op": "bucketize", "boundaries": [0, 1], "encode": "one_hot"}]}])",
                          10);
  EXPECT_EQ(compile(text).width(), 10u);
}
