// A JSON text parser for client messages. It accepts the texts nlohmann's json::parse
// accepts and builds the same values (number types included, duplicate keys: the last
// wins, a leading UTF-8 BOM is skipped), with one deliberate difference: nlohmann stops at
// a NUL byte outside a string as if the text ended there (`{"type":"ping"}\0junk` parses),
// while this parser, like RFC 8259, refuses it. It reads the text in one pass without
// nlohmann's lexer, which copies every character into an error-reporting buffer: a small
// message parses in a fraction of the instructions. tests/unit/test_json_reader.cpp and the
// fuzzer compare the two parsers.
#pragma once
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace mtown::core {

// nullopt when `text` is not one valid JSON value (with optional surrounding whitespace),
// or nests arrays/objects deeper than `max_depth` (nlohmann itself has no limit).
std::optional<nlohmann::json> read_json(std::string_view text, int max_depth = 64);

}  // namespace mtown::core
