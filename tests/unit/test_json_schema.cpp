// The JSON Schema subset: each keyword accepts a valid value and reports an invalid one
// at the right JSON pointer; unsupported keywords are refused when the schema loads.
#include <optional>
#include <stdexcept>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mtown/core/json_schema.hpp"

using mtown::core::JsonSchema;
using nlohmann::json;

namespace {

struct Row {
  const char* what;
  const char* schema;
  const char* doc;
  std::optional<std::string> pointer;  // nullopt: valid
  const char* message = "";            // substring of the violation's message
};

std::string describe(const std::optional<mtown::core::SchemaViolation>& v) {
  return v ? "violation at '" + v->pointer + "': " + v->message : "valid";
}

void check_rows(const std::vector<Row>& rows) {
  for (const auto& row : rows) {
    INFO(row.what << ": schema " << row.schema << " doc " << row.doc);
    const JsonSchema schema(json::parse(row.schema));
    const auto bad = schema.validate(json::parse(row.doc));
    if (!row.pointer) {
      CHECK(describe(bad) == "valid");
      continue;
    }
    REQUIRE(bad.has_value());
    CHECK(bad->pointer == *row.pointer);
    CHECK_THAT(bad->message, Catch::Contains(row.message));
  }
}

}  // namespace

TEST_CASE("json schema: type", "[json_schema]") {
  check_rows({
      {"string", R"({"type":"string"})", R"("x")", std::nullopt},
      {"string refuses number", R"({"type":"string"})", "1", "", "string"},
      {"integer", R"({"type":"integer"})", "-3", std::nullopt},
      {"integer accepts 2.0", R"({"type":"integer"})", "2.0", std::nullopt},
      {"integer accepts a huge whole number", R"({"type":"integer"})", "1e20", std::nullopt},
      {"integer refuses 1.5", R"({"type":"integer"})", "1.5", "", "integer"},
      {"integer refuses string", R"({"type":"integer"})", R"("8")", ""},
      {"number accepts integer", R"({"type":"number"})", "2", std::nullopt},
      {"number accepts 1.5", R"({"type":"number"})", "1.5", std::nullopt},
      {"number refuses bool", R"({"type":"number"})", "true", ""},
      {"boolean", R"({"type":"boolean"})", "false", std::nullopt},
      {"boolean refuses 0", R"({"type":"boolean"})", "0", ""},
      {"null", R"({"type":"null"})", "null", std::nullopt},
      {"null refuses object", R"({"type":"null"})", "{}", ""},
      {"object", R"({"type":"object"})", "{}", std::nullopt},
      {"object refuses array", R"({"type":"object"})", "[]", ""},
      {"array", R"({"type":"array"})", "[]", std::nullopt},
      {"array refuses object", R"({"type":"array"})", "{}", ""},
      {"type list, string", R"({"type":["string","integer"]})", R"("r")", std::nullopt},
      {"type list, integer", R"({"type":["string","integer"]})", "7", std::nullopt},
      {"type list refuses float", R"({"type":["string","integer"]})", "1.5", "", "one of string, integer"},
      {"type list refuses bool", R"({"type":["string","integer"]})", "true", ""},
      {"nested type", R"({"properties":{"a":{"properties":{"b":{"type":"integer"}}}}})", R"({"a":{"b":"x"}})",
       "/a/b"},
  });
}

TEST_CASE("json schema: required and additionalProperties", "[json_schema]") {
  const char* req = R"({"type":"object","required":["name","game"]})";
  const char* closed = R"({"type":"object","additionalProperties":false,"properties":{"a":{},"a/b":{},"m~n":{}}})";
  check_rows({
      {"required present", req, R"({"name":"x","game":"y"})", std::nullopt},
      {"required missing", req, R"({"game":"y"})", "/name", "required"},
      {"required second missing", req, R"({"name":"x"})", "/game", "required"},
      {"required ignores non-objects", R"({"required":["name"]})", "5", std::nullopt},
      {"known fields only", closed, R"({"a":1,"a/b":2,"m~n":3})", std::nullopt},
      {"unknown field", closed, R"({"a":1,"foo":2})", "/foo", "not a known field"},
      {"open by default", R"({"properties":{"a":{}}})", R"({"foo":2})", std::nullopt},
      {"pointer escapes /", R"({"properties":{"a/b":{"type":"string"}}})", R"({"a/b":1})", "/a~1b"},
      {"pointer escapes ~", R"({"properties":{"m~n":{"type":"string"}}})", R"({"m~n":1})", "/m~0n"},
      {"nested unknown", R"({"properties":{"o":{"additionalProperties":false}}})", R"({"o":{"x":1}})", "/o/x"},
  });
}

TEST_CASE("json schema: enum, const, minimum, maximum", "[json_schema]") {
  const char* range = R"({"type":"integer","minimum":2,"maximum":8})";
  check_rows({
      {"enum member", R"({"enum":["arena","party"]})", R"("party")", std::nullopt},
      {"enum non-member", R"({"enum":["arena","party"]})", R"("chess")", "", "one of arena, party"},
      {"enum of mixed values", R"({"enum":[1,"a",null]})", "null", std::nullopt},
      {"enum type matters", R"({"enum":[1]})", R"("1")", ""},
      {"const equal", R"({"const":"ping"})", R"("ping")", std::nullopt},
      {"const different", R"({"const":"ping"})", R"("pong")", "", "\"ping\""},
      {"const at a property", R"({"properties":{"type":{"const":"chat"}}})", R"({"type":"fly"})", "/type"},
      {"minimum inclusive", range, "2", std::nullopt},
      {"maximum inclusive", range, "8", std::nullopt},
      {"below minimum", range, "1", "", "at least 2"},
      {"above maximum", range, "9", "", "at most 8"},
      {"negative", range, "-1", "", "at least 2"},
      {"float above maximum", R"({"maximum":8})", "8.5", "", "at most 8"},
      {"float within", R"({"minimum":0.5,"maximum":1.5})", "1.0", std::nullopt},
      {"minimum ignores strings", R"({"minimum":5})", R"("abc")", std::nullopt},
  });
}

TEST_CASE("json schema: string length in code points, and pattern", "[json_schema]") {
  const char* three = R"({"type":"string","minLength":3,"maxLength":3})";
  check_rows({
      {"3 ASCII", three, R"("abc")", std::nullopt},
      {"3 two-byte chars (6 bytes)", three, "\"\xC3\xA9\xC3\xA9\xC3\xA9\"", std::nullopt},
      {"3 four-byte chars (12 bytes)", three, "\"\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\"", std::nullopt},
      {"4 chars", three, "\"\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\"", "", "at most 3"},
      {"2 chars", three, "\"\xC3\xA9\xC3\xA9\"", "", "at least 3"},
      {"escaped chars count once", three, R"("\u00e9\u00e9\u00e9")", std::nullopt},
      {"empty vs minLength 1", R"({"minLength":1})", R"("")", "", "empty"},
      {"length ignores numbers", R"({"maxLength":1})", "12345", std::nullopt},
      {"pattern match", R"({"pattern":"^[a-z]+$"})", R"("abc")", std::nullopt},
      {"pattern mismatch", R"({"pattern":"^[a-z]+$"})", R"("ab1")", "", "format"},
      {"pattern is not anchored", R"({"pattern":"b"})", R"("abc")", std::nullopt},
      {"pattern at a property", R"({"properties":{"code":{"pattern":"^[A-Z]{4}$"}}})", R"({"code":"ABC"})",
       "/code"},
      {"pattern ignores numbers", R"({"pattern":"^x$"})", "1", std::nullopt},
  });
}

TEST_CASE("json schema: items, minItems, maxItems", "[json_schema]") {
  const char* ints = R"({"type":"array","items":{"type":"integer"},"minItems":1,"maxItems":2})";
  check_rows({
      {"valid array", ints, "[1,2]", std::nullopt},
      {"bad item", ints, R"([1,"x"])", "/1", "integer"},
      {"first bad item wins", ints, R"(["a","b"])", "/0"},
      {"too few", ints, "[]", "", "at least 1"},
      {"too many", ints, "[1,2,3]", "", "at most 2"},
      {"items in a property", R"({"properties":{"list":{"items":{"maximum":3}}}})", R"({"list":[1,2,4]})",
       "/list/2"},
      {"objects in items", R"({"items":{"required":["id"]}})", R"([{"id":1},{}])", "/1/id"},
      {"item counts ignore objects", R"({"maxItems":0})", R"({"a":1})", std::nullopt},
  });
}

TEST_CASE("json schema: unsupported schemas are refused at load", "[json_schema]") {
  const char* rows[] = {
      R"({"oneOf":[{"type":"string"}]})",
      R"({"anyOf":[]})",
      R"({"$ref":"#/x"})",
      R"({"format":"email"})",
      R"({"additionalProperties":true})",
      R"({"additionalProperties":{"type":"string"}})",
      R"({"properties":{"a":{"oneOf":[]}}})",
      R"({"properties":{"a":{"properties":{"b":{"patternProperties":{}}}}}})",
      R"({"items":{"uniqueItems":true}})",
      R"({"properties":{"a":5}})",
      R"({"pattern":"("})",
      R"([])",
      R"("string")",
  };
  for (const char* schema : rows) {
    INFO(schema);
    CHECK_THROWS_AS(JsonSchema(json::parse(schema)), std::invalid_argument);
  }
  CHECK_THROWS_WITH(JsonSchema(json::parse(R"({"oneOf":[]})")), Catch::Contains("oneOf"));
  // Annotations are allowed.
  CHECK_NOTHROW(JsonSchema(json::parse(
      R"({"$schema":"x","$id":"y","title":"t","description":"d","default":1,"additionalProperties":false})")));
}

TEST_CASE("json schema: the document root has the empty pointer", "[json_schema]") {
  const JsonSchema s(json::parse(R"({"type":"object"})"));
  const auto bad = s.validate(json::array());
  REQUIRE(bad);
  CHECK(bad->pointer.empty());
  CHECK_FALSE(s.validate(json::object()));
  CHECK(s.schema() == json::parse(R"({"type":"object"})"));
}
