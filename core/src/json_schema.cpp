#include "mtown/core/json_schema.hpp"

#include <array>
#include <cmath>
#include <stdexcept>

#include "mtown/core/text.hpp"

namespace mtown::core {
namespace {

using nlohmann::json;

constexpr std::array kKeywords{"$schema", "$id", "title", "description", "default", "type",
                               "properties", "required", "additionalProperties", "enum",
                               "const", "minimum", "maximum", "minLength", "maxLength",
                               "pattern", "items", "minItems", "maxItems"};

bool has_type(const json& v, const std::string& t) {
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "string") return v.is_string();
  if (t == "boolean") return v.is_boolean();
  if (t == "null") return v.is_null();
  if (t == "number") return v.is_number();
  if (t == "integer") {
    // A whole float counts (JSON Schema); no cast to an integer type, which is UB past its range.
    if (v.is_number_integer()) return true;
    if (!v.is_number_float()) return false;
    const double d = v.get<double>();
    return std::isfinite(d) && std::trunc(d) == d;
  }
  return false;
}

std::string escape_pointer(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

std::string list(const json& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

std::string number_text(const json& n) { return n.dump(); }

std::string with_article(const std::string& type) {
  return (type == "integer" || type == "object" || type == "array" ? "an " : "a ") + type;
}

}  // namespace

JsonSchema::JsonSchema(json schema) : schema_(std::move(schema)) { compile(schema_, "#"); }

void JsonSchema::compile(const json& node, const std::string& where) {
  if (!node.is_object()) throw std::invalid_argument(where + ": a schema must be an object");
  for (const auto& [key, value] : node.items()) {
    if (std::find(kKeywords.begin(), kKeywords.end(), key) == kKeywords.end())
      throw std::invalid_argument(where + ": unsupported keyword " + key);
    if (key == "additionalProperties" && value != false)
      throw std::invalid_argument(where + ": additionalProperties must be false");
    if (key == "pattern") {
      try {
        patterns_.emplace(value.get<std::string>(), std::regex(value.get<std::string>()));
      } catch (const std::regex_error& e) {
        throw std::invalid_argument(where + ": bad pattern: " + e.what());
      }
    }
  }
  if (node.contains("properties"))
    for (const auto& [name, sub] : node["properties"].items()) compile(sub, where + "/properties/" + name);
  if (node.contains("items")) compile(node["items"], where + "/items");
}

std::optional<SchemaViolation> JsonSchema::validate(const json& doc) const { return check(schema_, doc, ""); }

std::optional<SchemaViolation> JsonSchema::check(const json& s, const json& v, const std::string& ptr) const {
  const auto fail = [&](std::string msg) { return SchemaViolation{ptr, std::move(msg)}; };
  if (const auto t = s.find("type"); t != s.end()) {
    bool ok = false;
    if (t->is_string()) ok = has_type(v, t->get<std::string>());
    else
      for (const auto& one : *t) ok = ok || has_type(v, one.get<std::string>());
    if (!ok) return fail("must be " + (t->is_string() ? with_article(t->get<std::string>()) : "one of " + list(*t)));
  }
  if (const auto c = s.find("const"); c != s.end() && v != *c) return fail("must be " + c->dump());
  if (const auto e = s.find("enum"); e != s.end() && std::find(e->begin(), e->end(), v) == e->end())
    return fail("must be one of " + list(*e));
  if (v.is_number()) {
    if (const auto m = s.find("minimum"); m != s.end() && v.get<double>() < m->get<double>())
      return fail("must be at least " + number_text(*m));
    if (const auto m = s.find("maximum"); m != s.end() && v.get<double>() > m->get<double>())
      return fail("must be at most " + number_text(*m));
  }
  if (v.is_string()) {
    const auto& str = v.get_ref<const std::string&>();
    const auto len = utf8_length(str);
    if (const auto m = s.find("minLength"); m != s.end() && len < m->get<std::size_t>())
      return fail(len == 0 ? "must not be empty" : "must have at least " + m->dump() + " characters");
    if (const auto m = s.find("maxLength"); m != s.end() && len > m->get<std::size_t>())
      return fail("must have at most " + m->dump() + " characters");
    if (const auto p = s.find("pattern"); p != s.end() && !std::regex_search(str, patterns_.at(p->get<std::string>())))
      return fail("has the wrong format");
  }
  if (v.is_array()) {
    if (const auto m = s.find("minItems"); m != s.end() && v.size() < m->get<std::size_t>())
      return fail("must have at least " + m->dump() + " items");
    if (const auto m = s.find("maxItems"); m != s.end() && v.size() > m->get<std::size_t>())
      return fail("must have at most " + m->dump() + " items");
    if (const auto items = s.find("items"); items != s.end())
      for (std::size_t i = 0; i < v.size(); ++i)
        if (auto bad = check(*items, v[i], ptr + "/" + std::to_string(i))) return bad;
  }
  if (v.is_object()) {
    if (const auto req = s.find("required"); req != s.end())
      for (const auto& name : *req)
        if (!v.contains(name.get<std::string>()))
          return SchemaViolation{ptr + "/" + escape_pointer(name.get<std::string>()), "is required"};
    const auto props = s.find("properties");
    for (const auto& [name, value] : v.items()) {
      const bool known = props != s.end() && props->contains(name);
      if (!known && s.contains("additionalProperties"))
        return SchemaViolation{ptr + "/" + escape_pointer(name), "is not a known field"};
      if (known)
        if (auto bad = check((*props)[name], value, ptr + "/" + escape_pointer(name))) return bad;
    }
  }
  return std::nullopt;
}

}  // namespace mtown::core
