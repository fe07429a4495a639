// Input shape checks, answer cleaning and the small text helpers shared by the rules.
#include "party_input.hpp"

#include <array>
#include <charconv>

#include "mtown/core/text.hpp"
#include "party_state.hpp"

namespace mtown::games::party {
namespace {

using nlohmann::json;

struct ActionSpec {
  std::string_view name;
  Action action;
  std::string_view field;  // the one extra field the action takes ("" for none)
};
constexpr std::array kActions{
    ActionSpec{"answer", Action::answer, "text"},       ActionSpec{"vote", Action::vote, "answer"},
    ActionSpec{"end_phase", Action::end_phase, ""},     ActionSpec{"next_round", Action::next_round, ""},
    ActionSpec{"leave", Action::leave, ""},             ActionSpec{"ai_takeover", Action::ai_takeover, "difficulty"},
};

const ActionSpec* find_action(const json& data) {
  const auto it = data.find("action");
  if (it == data.end() || !it->is_string()) return nullptr;
  for (const auto& spec : kActions)
    if (spec.name == it->get_ref<const std::string&>()) return &spec;
  return nullptr;
}

core::InputRefusal bad(std::string message) {
  return core::InputRefusal{0, 0, core::ErrorCode::bad_message, std::move(message)};
}

std::optional<core::InputRefusal> check_text(const json& v) {
  if (!v.is_string()) return bad("text: must be a string");
  const auto& s = v.get_ref<const std::string&>();
  if (!core::is_valid_utf8(s)) return bad("text: must be valid UTF-8");
  const std::size_t chars = core::utf8_length(s);
  if (chars < 1 || chars > kMaxAnswerChars) return bad("text: must be 1-100 characters");
  if (clean_answer(s).empty()) return bad("text: empty after cleaning (control characters, spaces, < >)");
  return std::nullopt;
}

}  // namespace

std::optional<core::InputRefusal> validate_input_data(const json& data) {
  if (!data.is_object()) return bad("data: must be an object");
  const ActionSpec* spec = find_action(data);
  if (spec == nullptr) return bad("action: must be one of answer, vote, end_phase, next_round, leave, ai_takeover");
  for (const auto& [key, value] : data.items())
    if (key != "action" && key != spec->field)
      return bad(key + ": not allowed with action " + std::string(spec->name));
  if (spec->field.empty()) return std::nullopt;
  const auto it = data.find(spec->field);
  if (it == data.end()) return bad(std::string(spec->field) + ": required with action " + std::string(spec->name));
  if (spec->action == Action::answer) return check_text(*it);
  if (spec->action == Action::ai_takeover)
    return it->is_string() && core::parse_ai_difficulty(it->get_ref<const std::string&>())
               ? std::nullopt
               : std::optional(bad("difficulty: must be one of easy, medium, hard"));
  if (!it->is_string() || parse_answer_id(it->get_ref<const std::string&>()) == kNoVote)
    return bad("answer: must be an answer id a1..a16");
  return std::nullopt;
}

Action input_action(const json& data) { return find_action(data)->action; }

bool is_host_input(const json& data) {
  const ActionSpec* spec = data.is_object() ? find_action(data) : nullptr;
  return spec != nullptr && (spec->action == Action::end_phase || spec->action == Action::next_round);
}

std::string clean_answer(std::string_view raw) {
  std::string no_markup;
  no_markup.reserve(raw.size());
  for (char c : raw)
    if (c != '<' && c != '>') no_markup += c;
  return core::clean_text(no_markup, kMaxAnswerChars);
}

std::string answer_id(int index) { return "a" + std::to_string(index + 1); }

int parse_answer_id(std::string_view id) {
  if (id.size() < 2 || id.size() > 3 || id[0] != 'a' || id[1] == '0') return kNoVote;
  int n = 0;
  const auto [end, ec] = std::from_chars(id.data() + 1, id.data() + id.size(), n);
  if (ec != std::errc{} || end != id.data() + id.size()) return kNoVote;
  if (n < 1 || n > static_cast<int>(kMaxShownAnswers)) return kNoVote;
  return n - 1;
}

std::string normalize_answer(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string_view phase_name(Phase p) {
  switch (p) {
    case Phase::lobby: return "lobby";
    case Phase::question: return "question";
    case Phase::elimination: return "elimination";
    case Phase::voting: return "voting";
    case Phase::results: return "results";
    case Phase::final_: return "final";
  }
  return "lobby";
}

std::string_view answer_kind_name(AnswerKind k) {
  switch (k) {
    case AnswerKind::player: return "player";
    case AnswerKind::correct: return "correct";
    case AnswerKind::robot: return "robot";
  }
  return "player";
}

}  // namespace mtown::games::party
