#include "mtown/replay/replayer.hpp"

#include <exception>

#include "mtown/core/games.hpp"
#include "mtown/games/registry.hpp"

namespace mtown::replay {
namespace {

using core::RecordingError;
using core::RecordingErrorKind;
using nlohmann::json;

core::Tick entry_tick(const core::RecordingEntry& e) {
  return std::visit([](const auto& r) { return r.tick; }, e);
}

void append_low_hex(std::string& out, std::uint64_t hash) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) out += kHex[(hash >> shift) & 0xF];
}

// Index of the first 8-digit group where `a` and `b` differ, over the shorter of the two.
std::optional<std::size_t> first_mismatch(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size()) / 8;
  for (std::size_t i = 0; i < n; ++i)
    if (a.compare(i * 8, 8, b, i * 8, 8) != 0) return i;
  return std::nullopt;
}

}  // namespace

Replayer::Replayer(const core::Recording& recording) : recording_(recording), rng_(recording.header.seed) {
  const auto& h = recording.header;
  if (!core::find_game(h.game))
    throw RecordingError(RecordingErrorKind::unknown_game,
                         "game \"" + h.game + "\" is not built into this mtown (it runs arena and party)");
  try {
    game_ = games::create_game(h.game, h.options);
  } catch (const std::invalid_argument& e) {
    corrupt(std::string("the header's options are refused: ") + e.what());
  }
  if (game_->version() != h.game_version)
    throw RecordingError(RecordingErrorKind::unknown_game,
                         "recorded with " + h.game + " rules version " + std::to_string(h.game_version) +
                             ", this mtown has version " + std::to_string(game_->version()) +
                             ": replay it with the mtown that recorded it");
  if (game_->tick_hz() != h.tick_hz)
    corrupt("the header's tick_hz " + std::to_string(h.tick_hz) + " disagrees with its options (" +
            std::to_string(game_->tick_hz()) + ")");
  try {
    game_->start(h.seats, rng_);  // as GameRunner::start: the same Rng, seeded once
  } catch (const std::invalid_argument& e) {
    corrupt(std::string("the header's seats are refused: ") + e.what());
  }
  for (const auto& e : recording.entries) last_tick_ = std::max(last_tick_, entry_tick(e));
  settle();
}

Replayer::~Replayer() = default;

std::uint64_t Replayer::state_hash() const {
  core::StateHasher h;
  game_->hash(h);
  return h.value();
}

core::Tick Replayer::next_tick() const {
  if (fixed_rate() || cursor_ >= recording_.entries.size()) return tick_ + 1;
  return entry_tick(recording_.entries[cursor_]);
}

const ReplayStep* Replayer::next() {
  if (done_) return nullptr;
  const auto& e = recording_.entries[cursor_];
  const auto* s = std::get_if<core::RecordedStep>(&e);
  if (fixed_rate()) {
    // The room stepped every tick; only ticks with inputs were recorded.
    if (s && s->tick == tick_ + 1) {
      ++cursor_;
      run(s->tick, s->inputs);
    } else if (entry_tick(e) > tick_) {
      run(tick_ + 1, {});
    } else {
      corrupt("a step at tick " + std::to_string(entry_tick(e)) + " comes after tick " + std::to_string(tick_));
    }
  } else {
    if (!s) corrupt("a record at tick " + std::to_string(entry_tick(e)) + " has no step before it");
    if (s->tick < tick_) corrupt("a step at tick " + std::to_string(s->tick) + " comes after tick " + std::to_string(tick_));
    ++cursor_;
    run(s->tick, s->inputs);
  }
  settle();
  return &step_;
}

void Replayer::run(core::Tick tick, std::span<const core::GameInput> inputs) {
  // Recorded inputs passed the room's checks; one that would not is a damaged file.
  for (const auto& in : inputs) {
    if (in.seat >= recording_.header.seats.size())
      corrupt("tick " + std::to_string(tick) + ": an input names seat " + std::to_string(in.seat) + ", which does not exist");
    if (const auto bad = game_->validate_input(in.data))
      corrupt("tick " + std::to_string(tick) + ": an input of seat " + std::to_string(in.seat) +
              " is one the server refuses: " + bad->message);
  }
  step_.tick = tick;
  step_.inputs = inputs;
  step_.out = {};
  try {
    game_->step(tick, inputs, rng_, step_.out);
  } catch (const std::exception& ex) {
    corrupt("tick " + std::to_string(tick) + ": the game failed on the recorded inputs: " + ex.what());
  }
  tick_ = tick;
  event_index_ = 0;
  ++steps_;
  inputs_ += inputs.size();
  if (fixed_rate()) append_low_hex(tick_hashes_, state_hash());
}

void Replayer::settle() {
  const auto& entries = recording_.entries;
  while (!done_ && cursor_ < entries.size()) {
    const auto& e = entries[cursor_];
    if (std::holds_alternative<core::RecordedStep>(e) || entry_tick(e) > tick_) break;
    if (end_) corrupt("records follow the end record");
    if (entry_tick(e) < tick_)
      corrupt("a record at tick " + std::to_string(entry_tick(e)) + " comes after tick " + std::to_string(tick_));
    ++cursor_;
    if (const auto* ev = std::get_if<core::RecordedEvent>(&e)) check_event(*ev);
    else if (const auto* h = std::get_if<core::RecordedHash>(&e)) check_hash(*h);
    else check_end(std::get<core::RecordedEnd>(e));
  }
  // Every record of this tick is checked: the replay must not have produced more events.
  // A recording without its end record (the server stopped mid-write) may end between a
  // step and that step's events: there the missing events are not a divergence.
  const bool tick_checked = cursor_ == entries.size()
                                ? end_ != nullptr
                                : entry_tick(entries[cursor_]) > tick_ ||
                                      std::holds_alternative<core::RecordedStep>(entries[cursor_]);
  if (!done_ && steps_ > 0 && event_index_ < step_.out.events.size() && tick_checked) {
    const auto i = event_index_;
    diverge({tick_, tick_, "event", "(none)", step_.out.events[i].dump(),
             diff_states(json(), step_.out.events[i], "/events/" + std::to_string(i)),
             "the replay produced an event the recording does not have"});
  }
  if (cursor_ == entries.size()) done_ = true;
}

void Replayer::check_event(const core::RecordedEvent& e) {
  ++events_;
  const auto& produced = step_.out.events;
  const auto i = event_index_++;
  if (i < produced.size() && produced[i] == e.event) return;
  const json actual = i < produced.size() ? produced[i] : json();
  Divergence d{tick_, tick_, "event", e.event.dump(), i < produced.size() ? actual.dump() : "(none)",
               diff_states(e.event, actual, "/events/" + std::to_string(i)), ""};
  // An event shows a difference that may have begun earlier: the next checkpoint's
  // per-tick hashes say which tick the state first differed at.
  if (fixed_rate()) {
    for (std::size_t k = cursor_; k < recording_.entries.size(); ++k) {
      const auto* h = std::get_if<core::RecordedHash>(&recording_.entries[k]);
      if (!h) continue;
      if (const auto m = first_mismatch(h->tick_hashes, tick_hashes_)) {
        d.tick = segment_start_ + *m;
        d.note = "the state first differs at tick " + std::to_string(d.tick) + "; the events differ at tick " +
                 std::to_string(tick_);
      }
      break;
    }
  }
  diverge(std::move(d));
}

void Replayer::check_hash(const core::RecordedHash& h) {
  ++checkpoints_checked_;
  const std::uint64_t actual = state_hash();
  std::optional<std::size_t> first;
  std::string expected_low, actual_low;
  if (fixed_rate()) {
    if (h.tick_hashes.size() != tick_hashes_.size())
      corrupt("the hash record at tick " + std::to_string(h.tick) + " covers " + std::to_string(h.tick_hashes.size() / 8) +
              " ticks; ticks " + std::to_string(segment_start_) + ".." + std::to_string(h.tick) + " are " +
              std::to_string(tick_hashes_.size() / 8));
    first = first_mismatch(h.tick_hashes, tick_hashes_);
    if (first) {
      expected_low = h.tick_hashes.substr(*first * 8, 8);
      actual_low = tick_hashes_.substr(*first * 8, 8);
    }
    tick_hashes_checked_ += tick_hashes_.size() / 8;
    tick_hashes_.clear();
    segment_start_ = h.tick + 1;
  }
  if (!first && actual == h.hash) return;
  Divergence d{h.tick, h.tick, "state hash", core::hash_hex(h.hash), core::hash_hex(actual),
               diff_states(h.state, game_->snapshot()), ""};
  if (first) {
    d.tick = h.tick + 1 - h.tick_hashes.size() / 8 + *first;
    d.expected = expected_low;
    d.actual = actual_low;
    d.note = "first divergent tick " + std::to_string(d.tick) + " (low 32 bits of its hash); fields compared at the checkpoint, tick " +
             std::to_string(h.tick);
  }
  if (d.fields.empty())
    d.note += std::string(d.note.empty() ? "" : "; ") +
              "the public state is equal: what differs is hashed state clients do not see (docs/games/" +
              recording_.header.game + ".md, Hash)";
  diverge(std::move(d));
}

void Replayer::check_end(const core::RecordedEnd& e) {
  end_ = &e;
  if (fixed_rate() && !tick_hashes_.empty())
    corrupt("the end record at tick " + std::to_string(e.tick) + " has no checkpoint before it");
  const std::uint64_t actual = state_hash();
  if (actual != e.hash)
    return diverge({e.tick, e.tick, "end hash", core::hash_hex(e.hash), core::hash_hex(actual),
                    e.status == "completed" ? diff_states(e.result, game_->result(), "/result") : std::vector<FieldDiff>{},
                    "the final state differs"});
  if (e.status != "completed") return;
  if (!game_->finished())
    return diverge({e.tick, e.tick, "end", "completed", "running", {},
                    "the recorded game ended here; the replayed game has not finished"});
  if (game_->result() != e.result)
    diverge({e.tick, e.tick, "result", e.result.dump(), game_->result().dump(),
             diff_states(e.result, game_->result(), "/result"), "the final result differs"});
}

void Replayer::diverge(Divergence d) {
  if (!divergence_) divergence_ = std::move(d);
  done_ = true;
}

void Replayer::corrupt(const std::string& what) const {
  throw RecordingError(RecordingErrorKind::corrupt, what);
}

}  // namespace mtown::replay
