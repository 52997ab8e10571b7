// compile(): validates a preprocess.json spec (docs/preprocess.md) and lowers it to a Program.
//
// Two passes. The first reads and checks every field, feature and step, tracking the kind of value
// (number, string, or terminal one-hot columns) from step to step, and collects each string field's
// vocabulary. The second emits instructions: it runs after the first because a one-hot or lookup
// table needs one slot per vocabulary entry, and later features may still add entries.
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "preprocess_plan.hpp"
#include "spec_reader.hpp"

namespace infergate::preprocess {

const char* to_string(FieldType type) noexcept {
  switch (type) {
    case FieldType::number: return "number";
    case FieldType::string: return "string";
    case FieldType::boolean: return "boolean";
  }
  return "?";
}

const char* to_string(MissingPolicy policy) noexcept {
  return policy == MissingPolicy::impute ? "impute" : "reject";
}

namespace {

using spec::fail;
using spec::indexed;
using spec::number_text;
using spec::ObjectReader;
using spec::quote;

// Bounds that keep every index in the program within 32 bits and int32 one-hot columns.
constexpr std::uint64_t kMaxColumns = std::numeric_limits<std::int32_t>::max();
constexpr std::size_t kMaxTableEntries = std::numeric_limits<std::uint32_t>::max() - 1;

enum class Kind { number, string, columns };

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::number: return "a number";
    case Kind::string: return "a string";
    case Kind::columns: return "one-hot columns";
  }
  return "?";
}

enum class Op { impute, log1p, standardize, min_max, clip, lookup, bucketize, one_hot };

std::optional<Op> op_named(std::string_view name) {
  if (name == "impute") return Op::impute;
  if (name == "log1p") return Op::log1p;
  if (name == "standardize") return Op::standardize;
  if (name == "min_max") return Op::min_max;
  if (name == "clip") return Op::clip;
  if (name == "lookup") return Op::lookup;
  if (name == "bucketize") return Op::bucketize;
  if (name == "one_hot") return Op::one_hot;
  return std::nullopt;
}

// A string field's vocabulary: every string its steps name, indexed in first-seen order.
struct Vocabulary {
  std::vector<std::string> words;
  std::unordered_map<std::string, std::uint32_t> index;

  std::uint32_t add(const std::string& word, const std::string& where) {
    auto found = index.find(word);
    if (found != index.end()) return found->second;
    if (words.size() >= kMaxTableEntries) fail(where, "too many distinct strings for one field");
    auto i = static_cast<std::uint32_t>(words.size());
    words.push_back(word);
    index.emplace(word, i);
    return i;
  }
};

// A validated step, parameters resolved (strings to vocabulary indices).
struct Step {
  Op op = Op::impute;
  double a = 0;  // impute value | mean | scale (min_max) | clip min | lookup default
  double b = 0;  // scale (standardize) | offset | clip max
  std::vector<double> numbers;       // bucketize boundaries | lookup values
  std::vector<std::uint32_t> words;  // one_hot categories | lookup keys, as vocabulary indices
  bool one_hot = false;              // bucketize encode "one_hot" | one_hot unknown "bucket"
};

struct ParsedFeature {
  std::uint32_t field;
  std::vector<Step> steps;
  std::uint32_t width = 1;
  bool terminal = false;
};

class Compiler {
 public:
  std::string output_name;
  std::uint32_t output_width = 0;
  std::vector<FieldInfo> fields;
  std::unordered_map<std::string, std::uint32_t> field_index;  // name -> position in fields
  std::vector<Vocabulary> vocabularies;  // one per field; empty for non-string fields
  std::vector<ParsedFeature> features;

  void read(const json::Value& spec) {
    ObjectReader root(spec, "top level", {"format", "fields", "features", "output"});
    const json::Value& format = root.required("format");
    if (!format.is_string() || format.as_string() != kFormat) {
      std::string got = format.is_string() ? quote(format.as_string()) : json::describe(format.type());
      fail(root.where(), "key \"format\" must be " + quote(kFormat) + ", got " + got);
    }

    const json::Value& field_list = root.required("fields");
    if (!field_list.is_array()) fail(root.where(), "key \"fields\" must be an array");
    for (std::size_t i = 0; i < field_list.as_array().size(); ++i) read_field(field_list.as_array()[i], i);

    const json::Value& feature_list = root.required("features");
    if (!feature_list.is_array() || feature_list.as_array().empty()) {
      fail(root.where(), "key \"features\" must be a non-empty array");
    }
    for (std::size_t i = 0; i < feature_list.as_array().size(); ++i) read_feature(feature_list.as_array()[i], i);

    read_output(root.required("output"));
  }

  detail::Program emit() const;

 private:
  void read_field(const json::Value& value, std::size_t i) {
    std::string where = indexed("fields", i);
    // Name the field in every later message once its name is known to be usable.
    const json::Value* name_value = value.find("name");
    if (name_value != nullptr && name_value->is_string() && !name_value->as_string().empty()) {
      where += " (name " + quote(name_value->as_string()) + ")";
    }
    ObjectReader r(value, where, {"name", "type", "missing", "min", "max"});
    FieldInfo field;
    field.name = r.string("name");
    if (field.name.empty()) fail(where, "key \"name\" must be a non-empty string");
    if (auto earlier = field_index.find(field.name); earlier != field_index.end()) {
      fail(where, "duplicate name: " + indexed("fields", earlier->second) + " has it too");
    }
    static constexpr FieldType kTypes[] = {FieldType::number, FieldType::string, FieldType::boolean};
    field.type = kTypes[r.choice("type", {"number", "string", "boolean"})];
    field.missing = r.choice("missing", {"impute", "reject"}) == 0 ? MissingPolicy::impute : MissingPolicy::reject;
    auto bound = [&](std::string_view key) -> std::optional<double> {
      if (r.optional(key) == nullptr) return std::nullopt;
      if (field.type != FieldType::number) {
        fail(where, r.name(key) + " is only allowed on number fields (this one is " + to_string(field.type) + ")");
      }
      return r.number(key);
    };
    field.min = bound("min");
    field.max = bound("max");
    if (field.min && field.max && *field.min > *field.max) {
      fail(where, "key \"min\" (" + number_text(*field.min) + ") is greater than key \"max\" (" +
                      number_text(*field.max) + ")");
    }
    if (fields.size() >= kMaxColumns) fail(where, "too many fields");
    field_index.emplace(field.name, static_cast<std::uint32_t>(fields.size()));
    fields.push_back(std::move(field));
    vocabularies.emplace_back();
  }

  void read_feature(const json::Value& value, std::size_t i) {
    std::string where = indexed("features", i);
    if (!value.is_object()) fail(where, std::string("expected an object, got ") + json::describe(value.type()));
    const json::Value* field_value = value.find("field");
    if (field_value == nullptr) fail(where, "missing key \"field\"");
    if (!field_value->is_string()) {
      fail(where, std::string("key \"field\" must be a string, got ") + json::describe(field_value->type()));
    }
    const std::string& field_name = field_value->as_string();
    auto found = field_index.find(field_name);
    if (found == field_index.end()) fail(where, "unknown field " + quote(field_name));
    const std::uint32_t f = found->second;
    const FieldInfo& field = fields[f];
    where += " (field " + quote(field_name) + ")";

    ObjectReader r(value, where, {"field", "steps"});
    const json::Value& steps = r.required("steps");
    if (!steps.is_array()) fail(where, std::string("key \"steps\" must be an array, got ") + json::describe(steps.type()));

    ParsedFeature feature;
    feature.field = f;
    Kind kind = field.type == FieldType::string ? Kind::string : Kind::number;
    for (std::size_t j = 0; j < steps.as_array().size(); ++j) {
      feature.steps.push_back(read_step(steps.as_array()[j], where, j, field, vocabularies[f], kind, feature));
    }

    // A field that may be missing reaches every feature as NaN unless the feature imputes it first.
    if (field.missing == MissingPolicy::impute && (feature.steps.empty() || feature.steps[0].op != Op::impute)) {
      fail(where, "field " + quote(field_name) + " has missing \"impute\", so the first step must be impute");
    }
    if (kind == Kind::string) {
      fail(where, "ends with a string value; a string field needs a one_hot or lookup step");
    }
    features.push_back(std::move(feature));
  }

  Step read_step(const json::Value& value, const std::string& feature_where, std::size_t j, const FieldInfo& field,
                 Vocabulary& vocabulary, Kind& kind, ParsedFeature& feature) {
    std::string where = feature_where + " " + indexed("steps", j);
    if (!value.is_object()) fail(where, std::string("expected an object, got ") + json::describe(value.type()));
    const json::Value* op_value = value.find("op");
    if (op_value == nullptr) fail(where, "missing key \"op\"");
    if (!op_value->is_string()) fail(where, std::string("key \"op\" must be a string, got ") + json::describe(op_value->type()));
    std::optional<Op> op = op_named(op_value->as_string());
    if (!op) fail(where, "unknown op " + quote(op_value->as_string()));
    where += " (" + op_value->as_string() + ")";

    if (kind == Kind::columns) {
      fail(where, "follows " + indexed("steps", j - 1) + ", which outputs one-hot columns; a terminal step must be the last one");
    }
    auto need = [&](Kind want) {
      if (kind != want) {
        fail(where, std::string("needs ") + kind_name(want) + " input, but the value here is " + kind_name(kind));
      }
    };

    Step step;
    step.op = *op;
    switch (*op) {
      case Op::impute: {
        ObjectReader r(value, where, {"value", "strategy"}, "parameter", "op");
        if (j != 0) fail(where, "impute must be the first step");
        std::size_t strategy = r.choice("strategy", {"mean", "median", "most_frequent", "constant"});
        const json::Value& v = r.required("value");
        if (kind == Kind::string) {
          if (!v.is_string()) fail(where, "parameter \"value\" must be a string, as field " + quote(field.name) + " is");
          if (strategy < 2) fail(where, "parameter \"strategy\" cannot be mean or median for a string field");
          step.a = vocabulary.add(v.as_string(), where);
        } else if (v.is_bool() && field.type == FieldType::boolean) {
          step.a = v.as_bool() ? 1.0 : 0.0;  // booleans are the numbers 1 / 0 inside the plan
        } else {
          step.a = r.number("value");
        }
        break;
      }
      case Op::log1p: {
        ObjectReader r(value, where, {}, "parameter", "op");
        need(Kind::number);
        break;
      }
      case Op::standardize: {
        ObjectReader r(value, where, {"mean", "scale"}, "parameter", "op");
        need(Kind::number);
        step.a = r.number("mean");
        const json::Value& scale = r.required("scale");
        if (!scale.is_number() || !std::isfinite(scale.as_number()) || scale.as_number() == 0) {
          fail(where, "parameter \"scale\" must be a non-zero finite number");
        }
        step.b = scale.as_number();
        break;
      }
      case Op::min_max: {
        ObjectReader r(value, where, {"scale", "offset"}, "parameter", "op");
        need(Kind::number);
        step.a = r.number("scale");
        step.b = r.number("offset");
        break;
      }
      case Op::clip: {
        ObjectReader r(value, where, {"min", "max"}, "parameter", "op");
        need(Kind::number);
        bool has_min = r.optional("min") != nullptr, has_max = r.optional("max") != nullptr;
        if (!has_min && !has_max) fail(where, "needs parameter \"min\" or \"max\" (or both)");
        step.a = has_min ? r.number("min") : -std::numeric_limits<double>::infinity();
        step.b = has_max ? r.number("max") : std::numeric_limits<double>::infinity();
        if (step.a > step.b) {
          fail(where, "parameter \"min\" (" + number_text(step.a) + ") is greater than parameter \"max\" (" +
                          number_text(step.b) + ")");
        }
        break;
      }
      case Op::lookup: {
        ObjectReader r(value, where, {"table", "default"}, "parameter", "op");
        need(Kind::string);
        const json::Value& table = r.required("table");
        if (!table.is_object()) {
          fail(where, std::string("parameter \"table\" must be an object mapping strings to numbers, got ") +
                          json::describe(table.type()));
        }
        for (const json::Member& m : table.as_object()) {
          if (!m.value.is_number() || !std::isfinite(m.value.as_number())) {
            fail(where, "parameter \"table\": the value for " + quote(m.key) + " must be a finite number, got " +
                            json::describe(m.value.type()));
          }
          step.words.push_back(vocabulary.add(m.key, where));
          step.numbers.push_back(m.value.as_number());
        }
        step.a = r.number("default");
        kind = Kind::number;
        break;
      }
      case Op::bucketize: {
        ObjectReader r(value, where, {"boundaries", "encode"}, "parameter", "op");
        need(Kind::number);
        const json::Value& bounds = r.required("boundaries");
        if (!bounds.is_array() || bounds.as_array().empty()) {
          fail(where, "parameter \"boundaries\" must be a non-empty array of numbers");
        }
        const auto& list = bounds.as_array();
        for (std::size_t k = 0; k < list.size(); ++k) {
          std::string at = indexed("", k);
          if (!list[k].is_number() || !std::isfinite(list[k].as_number())) {
            fail(where, "parameter \"boundaries\": element " + at + " must be a finite number, got " +
                            json::describe(list[k].type()));
          }
          double x = list[k].as_number();
          if (k > 0 && !(x > step.numbers.back())) {
            fail(where, "parameter \"boundaries\" must be strictly increasing, but element " + at + " (" +
                            number_text(x) + ") follows " + number_text(step.numbers.back()));
          }
          step.numbers.push_back(x);
        }
        step.one_hot = r.choice("encode", {"ordinal", "one_hot"}) == 1;
        if (step.one_hot) {
          if (step.numbers.size() >= kMaxColumns) fail(where, "too many boundaries");
          feature.width = static_cast<std::uint32_t>(step.numbers.size() + 1);
          feature.terminal = true;
          kind = Kind::columns;
        }
        break;
      }
      case Op::one_hot: {
        ObjectReader r(value, where, {"categories", "unknown"}, "parameter", "op");
        need(Kind::string);
        const json::Value& categories = r.required("categories");
        if (!categories.is_array() || categories.as_array().empty()) {
          fail(where, "parameter \"categories\" must be a non-empty array of strings");
        }
        std::unordered_set<std::uint32_t> seen;
        const auto& list = categories.as_array();
        for (std::size_t k = 0; k < list.size(); ++k) {
          if (!list[k].is_string()) {
            fail(where, "parameter \"categories\": element " + indexed("", k) + " must be a string, got " +
                            json::describe(list[k].type()));
          }
          std::uint32_t word = vocabulary.add(list[k].as_string(), where);
          if (!seen.insert(word).second) {
            fail(where, "parameter \"categories\" must be distinct, but lists " + quote(list[k].as_string()) + " twice");
          }
          step.words.push_back(word);
        }
        step.one_hot = r.choice("unknown", {"bucket", "ignore"}) == 0;
        std::size_t width = step.words.size() + (step.one_hot ? 1 : 0);
        if (width > kMaxColumns) fail(where, "too many categories");
        feature.width = static_cast<std::uint32_t>(width);
        feature.terminal = true;
        kind = Kind::columns;
        break;
      }
    }
    return step;
  }

  void read_output(const json::Value& value) {
    ObjectReader r(value, "output", {"name", "width"});
    output_name = r.string("name");
    if (output_name.empty()) fail(r.where(), "key \"name\" must be a non-empty string");
    const json::Value& width = r.required("width");
    double w = width.is_number() ? width.as_number() : 0;
    if (!(w >= 1 && w <= static_cast<double>(kMaxColumns) && w == std::floor(w))) {
      fail(r.where(), "key \"width\" must be a positive integer");
    }
    output_width = static_cast<std::uint32_t>(w);

    std::uint64_t total = 0;
    for (const ParsedFeature& f : features) total += f.width;
    if (total != output_width) {
      fail(r.where(), "key \"width\" is " + std::to_string(output_width) + ", but the features produce " +
                          std::to_string(total) + " columns");
    }
  }
};

detail::Program Compiler::emit() const {
  using detail::Instr;
  using detail::OpCode;
  detail::Program p;
  p.field_count = static_cast<std::uint32_t>(fields.size());
  p.width = output_width;

  std::uint32_t column = 0;
  for (const ParsedFeature& f : features) {
    const auto vocabulary_size = static_cast<std::uint32_t>(vocabularies[f.field].words.size());
    // Tables grow by at most one entry per vocabulary word or boundary, all bounded above.
    auto numbers_at = static_cast<std::uint32_t>(p.numbers.size());
    auto columns_at = static_cast<std::uint32_t>(p.columns.size());
    detail::Feature out{f.field, static_cast<std::uint32_t>(p.code.size()), 0, column, f.width, f.terminal};

    for (const Step& s : f.steps) {
      Instr in{OpCode::impute};
      in.a = s.a;
      in.b = s.b;
      switch (s.op) {
        case Op::impute: in.op = OpCode::impute; break;
        case Op::log1p: in.op = OpCode::log1p; break;
        case Op::standardize: in.op = OpCode::standardize; break;
        case Op::min_max: in.op = OpCode::min_max; break;
        case Op::clip: in.op = OpCode::clip; break;
        case Op::bucketize:
          in.op = s.one_hot ? OpCode::bucketize_one_hot : OpCode::bucketize;
          in.offset = numbers_at;
          in.count = static_cast<std::uint32_t>(s.numbers.size());
          p.numbers.insert(p.numbers.end(), s.numbers.begin(), s.numbers.end());
          break;
        case Op::lookup: {
          // One value per vocabulary slot; strings the table does not name, and unknowns (the final
          // slot), get the default.
          in.op = OpCode::lookup;
          in.offset = numbers_at;
          in.count = vocabulary_size;
          p.numbers.resize(p.numbers.size() + vocabulary_size + 1, s.a);
          for (std::size_t k = 0; k < s.words.size(); ++k) p.numbers[numbers_at + s.words[k]] = s.numbers[k];
          break;
        }
        case Op::one_hot: {
          // Column per vocabulary slot, resolved now so run() does one load per row. A word the
          // field's other steps name but these categories do not (e.g. the imputed "missing") is
          // unknown here, exactly like a string outside the vocabulary (the final slot).
          in.op = OpCode::one_hot;
          in.offset = columns_at;
          in.count = vocabulary_size;
          std::int32_t unknown = s.one_hot ? static_cast<std::int32_t>(s.words.size()) : -1;
          p.columns.resize(p.columns.size() + vocabulary_size + 1, unknown);
          for (std::size_t k = 0; k < s.words.size(); ++k) {
            p.columns[columns_at + s.words[k]] = static_cast<std::int32_t>(k);
          }
          break;
        }
      }
      p.code.push_back(in);
      numbers_at = static_cast<std::uint32_t>(p.numbers.size());
      columns_at = static_cast<std::uint32_t>(p.columns.size());
      if (p.code.size() > kMaxTableEntries || p.numbers.size() > kMaxTableEntries ||
          p.columns.size() > kMaxTableEntries) {
        fail("top level", "the spec is too large to compile");
      }
    }
    out.end = static_cast<std::uint32_t>(p.code.size());
    p.features.push_back(out);
    column += f.width;
  }
  // The plan lives as long as its model: keep no slack.
  p.features.shrink_to_fit();
  p.code.shrink_to_fit();
  p.numbers.shrink_to_fit();
  p.columns.shrink_to_fit();
  return p;
}

}  // namespace

Plan compile(const json::Value& spec) {
  Compiler c;
  c.read(spec);
  Plan plan;
  plan.program_ = c.emit();
  plan.output_name_ = std::move(c.output_name);
  plan.fields_ = std::move(c.fields);
  for (std::size_t i = 0; i < plan.fields_.size(); ++i) plan.fields_[i].vocabulary = std::move(c.vocabularies[i].words);
  return plan;
}

Plan compile(std::string_view json_text) { return compile(json::parse(json_text)); }

}  // namespace infergate::preprocess
