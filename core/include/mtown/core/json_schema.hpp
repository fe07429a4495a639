// A validator for the subset of JSON Schema (2020-12) that schemas/protocol uses:
// type, properties, required, additionalProperties:false, enum, const, minimum, maximum,
// minLength/maxLength (in code points), pattern, items, minItems, maxItems. A schema
// with any other keyword is refused at load, so the docs can never promise a check the
// server does not make.
#pragma once
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace mtown::core {

struct SchemaViolation {
  std::string pointer;  // JSON pointer of the offending value ("" for the document)
  std::string message;  // e.g. "must be at most 8"
};

class JsonSchema {
 public:
  // Throws std::invalid_argument on an unsupported keyword or a bad pattern.
  explicit JsonSchema(nlohmann::json schema);
  JsonSchema(JsonSchema&&) = default;

  // The first violation found, or nullopt when doc is valid.
  std::optional<SchemaViolation> validate(const nlohmann::json& doc) const;
  const nlohmann::json& schema() const { return schema_; }

 private:
  void compile(const nlohmann::json& node, const std::string& where);
  std::optional<SchemaViolation> check(const nlohmann::json& s, const nlohmann::json& v,
                                       const std::string& ptr) const;

  nlohmann::json schema_;
  std::unordered_map<std::string, std::regex> patterns_;
};

}  // namespace mtown::core
