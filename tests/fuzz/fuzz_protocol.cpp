// libFuzzer target over what a client controls before it is trusted: the protocol
// decoder + schema validator (JSON and MessagePack frames), the input fast path against
// it, and token parsing (JWT, base64url). The first byte picks the path; the rest is the input. Built with clang in
// its own build dir (make fuzz); a crash, a sanitizer report or an invariant below fails.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mtown/core/game.hpp"
#include "mtown/core/input_frame.hpp"
#include "mtown/core/json_reader.hpp"
#include "mtown/core/jwt.hpp"
#include "mtown/core/protocol.hpp"
#include "mtown/core/text.hpp"
#include "mtown/games/arena.hpp"

namespace {

using namespace mtown::core;

void require(bool ok) {
  if (!ok) std::abort();
}

// The decoder's JSON parser accepts and builds exactly what nlohmann's parser does, except
// that nlohmann takes a NUL byte for the end of the text (json_reader.hpp): with a NUL in
// the input, whatever read_json accepts nlohmann must accept the same way, not the reverse.
void same_as_nlohmann(std::string_view data) {
  if (json_depth(data) > kMaxJsonDepth) return;
  const auto reference = nlohmann::json::parse(data, nullptr, /*allow_exceptions=*/false);
  const auto ours = read_json(data, kMaxJsonDepth);
  if (data.find('\0') == std::string_view::npos) require(reference.is_discarded() == !ours.has_value());
  else require(!ours || !reference.is_discarded());
  if (ours) require(reference == *ours && reference.dump() == ours->dump());
}

void decode(const ProtocolDecoder& decoder, std::string_view data, bool msgpack) {
  if (!msgpack) same_as_nlohmann(data);
  const auto result = msgpack ? decoder.decode_msgpack(data) : decoder.decode(data);
  if (const auto* msg = std::get_if<ClientMessage>(&result)) {
    // Whatever passes validation is an object with a known type, and strings are UTF-8.
    require(msg->body.is_object());
    require(msg->body.at("type") == std::string(client_type_name(msg->type)));
    for (const char* key : {"text", "name"}) {
      if (!msg->body.contains(key)) continue;
      const auto& s = msg->body[key].get_ref<const std::string&>();
      require(is_valid_utf8(s));
      require(is_valid_utf8(clean_text(s, 32)));
    }
  } else {
    const auto& err = std::get<DecodeError>(result);
    require(!error_code_name(err.code).empty());
    // An error must be encodable as the reply the server sends.
    (void)encode_error(err.code, err.message, err.rid, err.field);
  }
}

// What the input fast path takes (input_frame.hpp, the arena's text parser), the decoder
// and ArenaGame::check_input read the same way.
void fast_input_agrees(const ProtocolDecoder& decoder, std::string_view data) {
  const auto frame = scan_input_frame(data);
  if (!frame) return;
  const auto result = decoder.decode(data);
  const auto* msg = std::get_if<ClientMessage>(&result);
  require(msg && msg->type == ClientType::input && msg->rid.is_null());
  require(msg->body.at("input_seq") == frame->input_seq);
  require(msg->body.at("data") == read_json(frame->data).value());
  ParsedInput fast;
  if (!mtown::games::arena_parse_input_text(frame->data, fast)) return;
  static const auto arena = mtown::games::make_arena(nlohmann::json());
  GameInput in{0, 0, msg->body.at("data")};
  require(!arena->check_input(in));
  require(in.parsed == fast);
}

void token(std::string_view data) {
  static const JwtExpectations expect{"mtown", "mtown", 30};
  const auto result = verify_jwt(data, "fuzz-key-0123456789abcdef0123456789", expect, 1'700'000'000);
  if (const auto* claims = std::get_if<JwtClaims>(&result)) require(is_valid_player_id(claims->subject));
  if (const auto bytes = base64url_decode(data)) require(base64url_encode(*bytes) == data);  // canonical
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
  static const ProtocolDecoder decoder;
  if (size == 0) return 0;
  const std::string_view data(reinterpret_cast<const char*>(bytes + 1), size - 1);
  switch (bytes[0] % 3) {
    case 0:
      decode(decoder, data, false);
      fast_input_agrees(decoder, data);
      break;
    case 1: decode(decoder, data, true); break;
    default: token(data); break;
  }
  return 0;
}
