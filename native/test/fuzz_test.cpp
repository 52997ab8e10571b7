// Fuzz-style robustness: compile() on random and mutated input must either succeed or throw
// JsonError / PlanError, never crash or throw anything else; whatever compiles must run on hostile
// raw rows without touching memory outside its buffers. Deterministic seeds, so failures reproduce.
// Run under scripts/test-native.sh --sanitize address,undefined to catch memory errors too.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "test_support.hpp"

using infergate::json::JsonError;
using infergate::json::Value;
using infergate::preprocess::compile;
using infergate::preprocess::Plan;
using infergate::preprocess::PlanError;
using infergate::test::kDocExample;
using infergate::test::kInf;
using infergate::test::kNaN;
using infergate::test::run_guarded;

namespace {

struct Outcome {
  int compiled = 0, json_errors = 0, plan_errors = 0;
};

// Values a caller could put in a raw row, good and bad.
double random_raw(std::mt19937_64& rng) {
  static const double kChoices[] = {kNaN, kInf, -kInf, -1, 0, 1, 2, 3, 0.5, -7.25, 1e300, 4294967296.0};
  std::uniform_int_distribution<std::size_t> pick(0, std::size(kChoices) - 1);
  return kChoices[pick(rng)];
}

void run_hostile_rows(const Plan& plan, std::mt19937_64& rng) {
  const std::size_t rows = 3;
  std::vector<double> raw(rows * plan.field_count());
  for (double& x : raw) x = random_raw(rng);
  run_guarded(plan, raw, rows);
}

// Compiles text; records the outcome; any other exception escapes and fails the test.
void try_compile(const std::string& text, Outcome& outcome, std::mt19937_64& rng) {
  try {
    Plan plan = compile(text);
    ++outcome.compiled;
    run_hostile_rows(plan, rng);
  } catch (const JsonError&) {
    ++outcome.json_errors;
  } catch (const PlanError& e) {
    ++outcome.plan_errors;
    EXPECT_NE(std::string(e.what()).find(": "), std::string::npos) << "no location in: " << e.what();
  }
}

// Structural mutation: pick a random node of the spec tree and change it.
Value random_scalar(std::mt19937_64& rng) {
  static const char* kStrings[] = {"", "x", "amount", "impute", "one_hot", "bucket", "ordinal", "number",
                                   "string", "reject", "median", "infergate.preprocess/1", "grocery"};
  static const double kNumbers[] = {0, -0.0, 1, -1, 2, 5, 6, 1e308, -1e308, 0.5, 37.25, 4294967296.0, kNaN, kInf};
  switch (rng() % 6) {
    case 0: return Value(nullptr);
    case 1: return Value(rng() % 2 == 0);
    case 2: return Value(kNumbers[rng() % std::size(kNumbers)]);
    case 3: return Value(kStrings[rng() % std::size(kStrings)]);
    case 4: return Value(Value::Array{Value(kNumbers[rng() % std::size(kNumbers)]), Value("a")});
    default: return Value(Value::Object{});
  }
}

void collect(Value& v, std::vector<Value*>& nodes) {
  nodes.push_back(&v);
  if (v.is_array()) {
    for (Value& item : v.as_array()) collect(item, nodes);
  } else if (v.is_object()) {
    for (auto& m : v.as_object()) collect(m.value, nodes);
  }
}

void mutate(Value& root, std::mt19937_64& rng) {
  std::vector<Value*> nodes;
  collect(root, nodes);
  Value& node = *nodes[rng() % nodes.size()];
  switch (rng() % 5) {
    case 0:  // replace
      node = random_scalar(rng);
      break;
    case 1:  // drop a member or an element
      if (node.is_object() && !node.as_object().empty()) {
        auto& o = node.as_object();
        o.erase(o.begin() + static_cast<std::ptrdiff_t>(rng() % o.size()));
      } else if (node.is_array() && !node.as_array().empty()) {
        auto& a = node.as_array();
        a.erase(a.begin() + static_cast<std::ptrdiff_t>(rng() % a.size()));
      }
      break;
    case 2:  // duplicate an element (a second feature, step, category, boundary, ...)
      if (node.is_array() && !node.as_array().empty()) {
        auto& a = node.as_array();
        Value copy = a[rng() % a.size()];
        a.insert(a.begin() + static_cast<std::ptrdiff_t>(rng() % (a.size() + 1)), std::move(copy));
      }
      break;
    case 3:  // add a member
      if (node.is_object()) node.as_object().push_back({"extra", random_scalar(rng)});
      break;
    default:  // swap two elements
      if (node.is_array() && node.as_array().size() >= 2) {
        auto& a = node.as_array();
        std::swap(a[rng() % a.size()], a[rng() % a.size()]);
      }
      break;
  }
}

}  // namespace

TEST(Fuzz, RandomBytes) {
  std::mt19937_64 rng(1);
  Outcome outcome;
  const std::string alphabet = "{}[]:,\"\\ 0123456789.eE+-truefalsnu\xC3\xA9\x80\xFF";
  for (int i = 0; i < 20000; ++i) {
    std::string text(rng() % 64, '\0');
    bool structured = i % 2 == 0;  // half from JSON-ish characters, half fully random bytes
    for (char& c : text) {
      c = structured ? alphabet[rng() % alphabet.size()] : static_cast<char>(rng() & 0xFF);
    }
    try_compile(text, outcome, rng);
  }
  EXPECT_EQ(outcome.compiled, 0);
}

TEST(Fuzz, ByteMutationsOfAValidSpec) {
  std::mt19937_64 rng(2);
  Outcome outcome;
  const std::string base = kDocExample;
  for (int i = 0; i < 20000; ++i) {
    std::string text = base;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      std::size_t at = rng() % text.size();
      switch (rng() % 4) {
        case 0: text[at] = static_cast<char>(rng() & 0xFF); break;
        case 1: text.erase(at, 1 + rng() % 8); break;
        case 2: text.insert(at, text.substr(rng() % text.size(), 1 + rng() % 16)); break;
        default: text.resize(at); break;
      }
      if (text.empty()) text = "{";
    }
    try_compile(text, outcome, rng);
  }
  EXPECT_GT(outcome.json_errors, 0);
  EXPECT_GT(outcome.plan_errors, 0);
}

TEST(Fuzz, StructuralMutationsOfAValidSpec) {
  std::mt19937_64 rng(3);
  Outcome outcome;
  const Value base = infergate::json::parse(kDocExample);
  for (int i = 0; i < 20000; ++i) {
    Value spec = base;
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) mutate(spec, rng);
    // Through the Value overload (which may hold NaN and infinities) and through text.
    try {
      Plan plan = compile(spec);
      run_hostile_rows(plan, rng);
    } catch (const PlanError&) {
    }
    try_compile(infergate::test::to_json(spec), outcome, rng);
  }
  // Some mutations stay valid (swapped fields, a changed number) and then ran on hostile rows.
  EXPECT_GT(outcome.compiled, 0);
  EXPECT_GT(outcome.plan_errors, 0);
}
