// Question pools and make_party's options: parsing and validation. Every error names the
// entry or option it is about; nothing here draws from the Rng.
#include <set>
#include <stdexcept>

#include "mtown/core/text.hpp"
#include "party_state.hpp"

namespace mtown::games {
namespace party {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxIdChars = 32;
constexpr std::size_t kMaxQuestionChars = 300;
constexpr std::size_t kMaxDecoys = 32;
constexpr std::int64_t kMinPhaseMs = 1000;
constexpr std::int64_t kMaxPhaseMs = 600000;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + ": " + what);
}

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// A string field that must already be clean text (what clients will see, unchanged).
std::string text_field(const json& q, const char* key, std::size_t max_chars, bool answer,
                       const std::string& where) {
  const std::string field = where + "." + key;
  const auto it = q.find(key);
  if (it == q.end() || !it->is_string()) fail(field, "must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (!core::is_valid_utf8(s)) fail(field, "must be valid UTF-8");
  const std::size_t chars = core::utf8_length(s);
  if (chars < 1 || chars > max_chars) fail(field, "must be 1-" + std::to_string(max_chars) + " characters");
  if (core::clean_text(s, max_chars) != s)
    fail(field, "must not contain control characters or leading/trailing spaces");
  if (answer && s.find_first_of("<>") != std::string::npos)
    fail(field, "must not contain < or > (players' answers cannot)");
  return s;
}

Question parse_question(const json& q, const std::string& where) {
  if (!q.is_object()) fail(where, "must be an object");
  Question out;
  const auto id = q.find("id");
  if (id == q.end() || !id->is_string()) fail(where + ".id", "must be a string");
  out.id = id->get<std::string>();
  if (out.id.empty() || out.id.size() > kMaxIdChars)
    fail(where + ".id", "must be 1-" + std::to_string(kMaxIdChars) + " characters");
  for (char c : out.id)
    if (!is_id_char(c)) fail(where + ".id", "may only use A-Z a-z 0-9 _ -");
  const std::string named = where + " (" + out.id + ")";
  out.text = text_field(q, "text", kMaxQuestionChars, false, named);
  out.correct = text_field(q, "correct", kMaxAnswerChars, true, named);
  out.robot = text_field(q, "robot", kMaxAnswerChars, true, named);
  const auto decoys = q.find("decoys");
  if (decoys == q.end() || !decoys->is_array() || decoys->size() > kMaxDecoys)
    fail(named + ".decoys", "must be an array of at most " + std::to_string(kMaxDecoys) + " strings");
  const std::string correct = normalize_answer(out.correct);
  const std::string robot = normalize_answer(out.robot);
  if (correct == robot) fail(named + ".robot", "must differ from correct");
  for (std::size_t i = 0; i < decoys->size(); ++i) {
    const json holder{{"decoy", (*decoys)[i]}};
    std::string decoy = text_field(holder, "decoy", kMaxAnswerChars, true, named + ".decoys[" + std::to_string(i) + "]");
    const std::string norm = normalize_answer(decoy);
    if (norm == correct || norm == robot)
      fail(named + ".decoys[" + std::to_string(i) + "]", "must differ from correct and robot");
    out.decoys.push_back(std::move(decoy));
  }
  return out;
}

std::vector<Question> parse_question_list(const json& list, const std::string& name) {
  if (!list.is_array()) fail(name, "must be an array");
  std::vector<Question> out;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string where = name + "[" + std::to_string(i) + "]";
    Question q = parse_question(list[i], where);
    if (!ids.insert(q.id).second) fail(where + ".id", "duplicate id " + q.id);
    out.push_back(std::move(q));
  }
  return out;
}

Tick phase_ms(const json& options, const char* key, Tick fallback) {
  const auto it = options.find(key);
  if (it == options.end()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < kMinPhaseMs || it->get<std::int64_t>() > kMaxPhaseMs)
    fail(key, "must be an integer from 1000 to 600000 (ms)");
  return static_cast<Tick>(it->get<std::int64_t>());
}

}  // namespace

Config parse_options(const json& options) {
  const json empty = json::object();
  const json& o = options.is_null() ? empty : options;
  if (!o.is_object()) fail("options", "must be an object");
  static const std::set<std::string> known{"rounds", "questions", "question_ms", "elimination_ms", "voting_ms",
                                           "results_ms"};
  for (const auto& [key, value] : o.items())
    if (!known.contains(key)) fail(key, "unknown option");
  Config c;
  if (const auto it = o.find("rounds"); it != o.end()) {
    if (!it->is_number_integer() || (it->get<std::int64_t>() != 8 && it->get<std::int64_t>() != 12))
      fail("rounds", "must be 8 or 12");
    c.rounds = it->get<int>();
  }
  const auto qs = o.find("questions");
  if (qs == o.end()) fail("questions", "required: an array of `rounds` questions");
  c.questions = parse_question_list(*qs, "questions");
  if (c.questions.size() != static_cast<std::size_t>(c.rounds))
    fail("questions", "must hold exactly " + std::to_string(c.rounds) + " questions (one per round), got " +
                          std::to_string(c.questions.size()));
  c.question_ms = phase_ms(o, "question_ms", c.question_ms);
  c.elimination_ms = phase_ms(o, "elimination_ms", c.elimination_ms);
  c.voting_ms = phase_ms(o, "voting_ms", c.voting_ms);
  c.results_ms = phase_ms(o, "results_ms", c.results_ms);
  return c;
}

}  // namespace party

std::vector<Question> load_questions(const std::string& json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) throw std::invalid_argument("questions: not valid JSON");
  return party::parse_question_list(doc, "questions");
}

}  // namespace mtown::games
