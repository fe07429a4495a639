#include "mtown/core/json_schema.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "mtown/core/text.hpp"

namespace mtown::core {
namespace {

using nlohmann::json;

constexpr std::array kKeywords{"$schema", "$id", "title", "description", "default", "type",
                               "properties", "required", "additionalProperties", "enum",
                               "const", "minimum", "maximum", "minLength", "maxLength",
                               "pattern", "items", "minItems", "maxItems"};

enum TypeBit : unsigned {
  kObject = 1, kArray = 2, kString = 4, kBoolean = 8, kNull = 16, kNumber = 32, kInteger = 64,
};

unsigned type_bit(const std::string& t) {
  if (t == "object") return kObject;
  if (t == "array") return kArray;
  if (t == "string") return kString;
  if (t == "boolean") return kBoolean;
  if (t == "null") return kNull;
  if (t == "number") return kNumber;
  if (t == "integer") return kInteger;
  return 0;  // an unknown type name admits nothing
}

bool has_type(const json& v, unsigned mask) {
  if ((mask & kObject) && v.is_object()) return true;
  if ((mask & kArray) && v.is_array()) return true;
  if ((mask & kString) && v.is_string()) return true;
  if ((mask & kBoolean) && v.is_boolean()) return true;
  if ((mask & kNull) && v.is_null()) return true;
  if ((mask & kNumber) && v.is_number()) return true;
  if (mask & kInteger) {
    // A whole float counts (JSON Schema); no cast to an integer type, which is UB past its range.
    if (v.is_number_integer()) return true;
    if (v.is_number_float()) {
      const double d = v.get<double>();
      return std::isfinite(d) && std::trunc(d) == d;
    }
  }
  return false;
}

std::string escape_pointer(std::string_view key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

std::string list(const json& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

std::string with_article(const std::string& type) {
  return (type == "integer" || type == "object" || type == "array" ? "an " : "a ") + type;
}

// A bound keyword with the message it fails with.
template <class T>
struct Bound {
  T value{};
  std::string message;
};

}  // namespace

struct JsonSchema::Node {
  std::optional<Bound<unsigned>> type;  // a mask of TypeBit
  std::optional<json> const_value;
  std::string const_message;
  std::optional<json> enum_values;
  std::string enum_message;
  std::optional<Bound<double>> minimum, maximum;
  std::optional<Bound<std::size_t>> min_length, max_length, min_items, max_items;
  std::optional<std::regex> pattern;
  std::unique_ptr<Node> items;
  std::vector<std::string> required;
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> properties;  // few per schema: searched in order
  bool closed = false;                                   // additionalProperties: false

  const Node* property(const std::string& name) const {
    for (const auto& [key, node] : properties)
      if (key == name) return node.get();
    return nullptr;
  }
};

// Where a value sits in the document, as a chain up to the root; written out as a JSON
// pointer only when a violation is reported.
struct JsonSchema::Path {
  const Path* up = nullptr;
  std::string_view key;  // an object member, or
  std::size_t index = 0;  // an array item when `key` is null
  bool is_index = false;

  std::string pointer() const {
    if (!up) return {};
    return up->pointer() + "/" + (is_index ? std::to_string(index) : escape_pointer(key));
  }
};

namespace {

using Node = JsonSchema::Node;
using Path = JsonSchema::Path;

Node compile(const json& node, const std::string& where) {
  if (!node.is_object()) throw std::invalid_argument(where + ": a schema must be an object");
  Node out;
  for (const auto& [key, value] : node.items()) {
    if (std::find(kKeywords.begin(), kKeywords.end(), key) == kKeywords.end())
      throw std::invalid_argument(where + ": unsupported keyword " + key);
    if (key == "additionalProperties" && value != false)
      throw std::invalid_argument(where + ": additionalProperties must be false");
    if (key == "pattern") {
      try {
        out.pattern.emplace(value.get<std::string>());
      } catch (const std::regex_error& e) {
        throw std::invalid_argument(where + ": bad pattern: " + e.what());
      }
    }
  }
  if (const auto t = node.find("type"); t != node.end()) {
    Bound<unsigned> type;
    if (t->is_string()) {
      type.value = type_bit(t->get<std::string>());
      type.message = "must be " + with_article(t->get<std::string>());
    } else {
      for (const auto& one : *t) type.value |= type_bit(one.get<std::string>());
      type.message = "must be one of " + list(*t);
    }
    out.type = std::move(type);
  }
  if (const auto c = node.find("const"); c != node.end()) {
    out.const_value = *c;
    out.const_message = "must be " + c->dump();
  }
  if (const auto e = node.find("enum"); e != node.end()) {
    out.enum_values = *e;
    out.enum_message = "must be one of " + list(*e);
  }
  if (const auto m = node.find("minimum"); m != node.end())
    out.minimum = Bound<double>{m->get<double>(), "must be at least " + m->dump()};
  if (const auto m = node.find("maximum"); m != node.end())
    out.maximum = Bound<double>{m->get<double>(), "must be at most " + m->dump()};
  if (const auto m = node.find("minLength"); m != node.end())
    out.min_length = Bound<std::size_t>{m->get<std::size_t>(), "must have at least " + m->dump() + " characters"};
  if (const auto m = node.find("maxLength"); m != node.end())
    out.max_length = Bound<std::size_t>{m->get<std::size_t>(), "must have at most " + m->dump() + " characters"};
  if (const auto m = node.find("minItems"); m != node.end())
    out.min_items = Bound<std::size_t>{m->get<std::size_t>(), "must have at least " + m->dump() + " items"};
  if (const auto m = node.find("maxItems"); m != node.end())
    out.max_items = Bound<std::size_t>{m->get<std::size_t>(), "must have at most " + m->dump() + " items"};
  if (const auto r = node.find("required"); r != node.end())
    for (const auto& name : *r) out.required.push_back(name.get<std::string>());
  if (const auto p = node.find("properties"); p != node.end()) {
    for (const auto& [name, sub] : p->items())
      out.properties.emplace_back(name, std::make_unique<Node>(compile(sub, where + "/properties/" + name)));
  }
  if (const auto i = node.find("items"); i != node.end()) out.items = std::make_unique<Node>(compile(*i, where + "/items"));
  out.closed = node.contains("additionalProperties");
  return out;
}

std::optional<SchemaViolation> check(const Node& s, const json& v, const Path& at) {
  const auto fail = [&](const std::string& msg) { return SchemaViolation{at.pointer(), msg}; };
  if (s.type && !has_type(v, s.type->value)) return fail(s.type->message);
  if (s.const_value && v != *s.const_value) return fail(s.const_message);
  if (s.enum_values && std::find(s.enum_values->begin(), s.enum_values->end(), v) == s.enum_values->end())
    return fail(s.enum_message);
  if (v.is_number()) {
    if (s.minimum && v.get<double>() < s.minimum->value) return fail(s.minimum->message);
    if (s.maximum && v.get<double>() > s.maximum->value) return fail(s.maximum->message);
  }
  if (v.is_string() && (s.min_length || s.max_length || s.pattern)) {
    const auto& str = v.get_ref<const std::string&>();
    const auto len = utf8_length(str);
    if (s.min_length && len < s.min_length->value) return fail(len == 0 ? "must not be empty" : s.min_length->message);
    if (s.max_length && len > s.max_length->value) return fail(s.max_length->message);
    if (s.pattern && !std::regex_search(str, *s.pattern)) return fail("has the wrong format");
  }
  if (v.is_array()) {
    if (s.min_items && v.size() < s.min_items->value) return fail(s.min_items->message);
    if (s.max_items && v.size() > s.max_items->value) return fail(s.max_items->message);
    if (s.items)
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto bad = check(*s.items, v[i], Path{&at, {}, i, true})) return bad;
  }
  if (v.is_object()) {
    for (const auto& name : s.required)
      if (!v.contains(name)) return SchemaViolation{Path{&at, name}.pointer(), "is required"};
    if (s.properties.empty() && !s.closed) return std::nullopt;  // any member will do (an input's data)
    for (const auto& [name, value] : v.get_ref<const json::object_t&>()) {  // items() builds a string per member
      const Node* known = s.property(name);
      if (!known && s.closed) return SchemaViolation{Path{&at, name}.pointer(), "is not a known field"};
      if (known)
        if (auto bad = check(*known, value, Path{&at, name})) return bad;
    }
  }
  return std::nullopt;
}

}  // namespace

JsonSchema::JsonSchema(json schema)
    : schema_(std::move(schema)), root_(std::make_unique<Node>(compile(schema_, "#"))) {}
JsonSchema::JsonSchema(JsonSchema&&) noexcept = default;
JsonSchema::~JsonSchema() = default;

std::optional<SchemaViolation> JsonSchema::validate(const json& doc) const { return check(*root_, doc, Path{}); }

}  // namespace mtown::core
