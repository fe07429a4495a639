// A validator for the subset of JSON Schema (2020-12) that schemas/protocol uses:
// type, properties, required, additionalProperties:false, enum, const, minimum, maximum,
// minLength/maxLength (in code points), pattern, items, minItems, maxItems. A schema
// with any other keyword is refused at load, so the docs can never promise a check the
// server does not make.
#pragma once
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

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
  JsonSchema(JsonSchema&&) noexcept;
  ~JsonSchema();

  // The first violation found, or nullopt when doc is valid.
  std::optional<SchemaViolation> validate(const nlohmann::json& doc) const;
  const nlohmann::json& schema() const { return schema_; }

  // The schema compiled at load (keywords read once, messages written once): every
  // client message is checked against one, so validation does no keyword lookups and
  // builds a JSON pointer only for the violation it reports.
  struct Node;
  struct Path;

 private:
  nlohmann::json schema_;
  std::unique_ptr<Node> root_;
};

}  // namespace mtown::core
