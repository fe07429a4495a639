#include "mtown/server/game_runner.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <utility>
#include <thread>

#include "mtown/core/log.hpp"
#include "mtown/core/text.hpp"
#include "mtown/core/tick_grid.hpp"
#include "mtown/server/send_batch.hpp"

namespace mtown::server {
namespace {

using nlohmann::json;
using std::chrono::steady_clock;

json seats_json(const std::vector<core::GameSeat>& seats) {
  json out = json::array();
  for (std::size_t i = 0; i < seats.size(); ++i) {
    json s{{"seat", i}, {"player_id", seats[i].player_id}, {"name", seats[i].name}, {"ai", seats[i].ai}};
    if (seats[i].ai) s["difficulty"] = core::ai_difficulty_name(seats[i].difficulty);
    out.push_back(std::move(s));
  }
  return out;
}

// The options clients may see: the party's questions carry their answers, so they stay
// on the server (and in recordings).
json public_options(const json& options) {
  json out = options;
  out.erase("questions");
  return out;
}

core::SharedMessage refusal_message(const core::InputRefusal& r, const json& rid) {
  return core::encode_error(r.code, r.message, rid, {}, r.input_seq);
}

}  // namespace

core::SharedMessage game_started_message(const GameSetup& setup, const core::Game& game, std::optional<core::Tick> tick) {
  json fields{{"code", setup.code},
              {"game", setup.game},
              {"game_id", setup.game_id},
              {"tick_hz", game.tick_hz()},
              {"seats", seats_json(setup.seats)},
              {"options", public_options(setup.options)},
              {"snapshot", game.snapshot()}};
  if (tick) fields["tick"] = *tick;
  return core::encode_message(core::ServerType::game_started, std::move(fields));
}

core::SharedMessage state_message(const std::string& code, core::Tick tick, core::StepOutput& out,
                                  const core::Game& game, std::size_t* size_hint) {
  const bool fixed_rate = game.tick_hz() > 0;
  if (!fixed_rate && !out.state_changed && out.events.empty()) return nullptr;
  if (fixed_rate) {
    // The 60 Hz hot path: the message text is written straight into one string, in the
    // sorted key order json::dump() would use, without building a JSON tree.
    std::string body;
    body.reserve((size_hint ? *size_hint : 256) + 64);
    body += "{\"acks\":[";
    const auto acks = game.acks();
    for (std::size_t i = 0; i < acks.size(); ++i) {
      if (i) body += ',';
      core::append_decimal(body, acks[i]);
    }
    body += "],\"code\":";
    body += json(code).dump();
    body += ",\"delta\":";
    if (game.write_delta_json(body)) {
      body += ",\"events\":";
      if (out.events.empty()) body += "[]";
      else body += json(std::move(out.events)).dump(-1, ' ', false, json::error_handler_t::replace);
      body += ",\"tick\":";
      core::append_decimal(body, tick);
      body += ",\"type\":\"state\"}";
      // The hint is the recent largest size, decaying slowly, not the last size: a text that
      // outgrows its reservation doubles it, and past 1 KiB that malloc call consolidates
      // glibc's fastbins (docs/performance.md, "Ticks on a shared grid").
      if (size_hint) *size_hint = std::max(body.size(), *size_hint - *size_hint / 32);
      return std::make_shared<const core::OutboundMessage>(core::ServerType::state, std::move(body));
    }
  }
  json state{{"code", code}, {"tick", tick}, {"events", std::move(out.events)}};
  if (fixed_rate) {
    state["delta"] = game.delta();
    state["acks"] = game.acks();
  }
  else state["snapshot"] = game.snapshot();
  return core::encode_message(core::ServerType::state, std::move(state));
}

GameRunner::GameRunner(Executor strand, GameSetup setup, std::unique_ptr<core::Game> game, GameHost& host,
                       ServerMetrics& metrics, core::TickLanes* lanes)
    : strand_(std::move(strand)),
      setup_(std::move(setup)),
      game_(std::move(game)),
      host_(host),
      metrics_(metrics),
      rng_(setup_.seed),
      timer_(strand_),
      lanes_(lanes),
      pending_per_seat_(setup_.seats.size(), 0) {}

core::SharedMessage GameRunner::started_message(bool with_tick) const {
  return game_started_message(setup_, *game_, with_tick ? std::optional<core::Tick>(tick_) : std::nullopt);
}

void GameRunner::start() {
  game_->start(setup_.seats, rng_);
  started_at_ = steady_clock::now();
  if (setup_.recorder)
    setup_.recorder->begin({core::kRecordingFormat, setup_.game_id, setup_.game, game_->version(), game_->tick_hz(),
                            setup_.seed, setup_.options, setup_.seats, setup_.code, core::epoch_ms(),
                            game_->tick_hz() > 0 ? setup_.hash_every : 0});
  metrics_.games_started(setup_.game).inc();
  core::log_info("game_started", {{"room", setup_.code}, {"game", setup_.game}, {"game_id", setup_.game_id},
                                  {"seats", setup_.seats.size()}, {"seed", setup_.seed}});
  host_.broadcast(started_message());
  if (game_->tick_hz() > 0) {
    period_ = std::chrono::nanoseconds(1'000'000'000 / game_->tick_hz());
    // On the room's lane of the grid (core/tick_grid.hpp, core/tick_lanes.hpp): up to one
    // period later than a fixed offset from the start would be, so the first tick is at
    // least half a period away.
    if (lanes_) lane_ = lanes_->acquire();
    next_tick_at_ = core::tick_grid_after(started_at_ + period_ / 2, period_, lane_.offset(period_));
    schedule_tick();
  } else {
    schedule_deadline();
  }
}

void GameRunner::stop() {
  if (!stopped_ && !finished_) record_end("aborted");
  stopped_ = true;
  lane_.reset();
  timer_.cancel();
}

void GameRunner::submit(std::uint32_t seat, std::uint64_t input_seq, json data, json rid) {
  submit(core::GameInput{seat, input_seq, std::move(data)}, std::move(rid));
}

void GameRunner::submit(core::GameInput input, json rid) {
  const auto seat = input.seat;
  if (stopped_ || finished_ || seat >= setup_.seats.size()) return;
  if (game_->tick_hz() > 0) {
    if (pending_per_seat_[seat] >= kMaxInputsPerSeatPerTick) {
      host_.send_to_seat(seat, refusal_message({seat, input.input_seq, core::ErrorCode::rate_limited,
                                                "at most 16 inputs per tick; wait for the next state"},
                                               rid));
      return;
    }
    ++pending_per_seat_[seat];
    pending_.push_back(std::move(input));
    pending_rids_.push_back(std::move(rid));
    return;
  }
  pending_.push_back(std::move(input));
  pending_rids_.push_back(std::move(rid));
  run_step(now_tick());
  schedule_deadline();
}

std::optional<std::uint32_t> GameRunner::seat_of(std::string_view player_id, std::uint32_t hint) const {
  if (hint < setup_.seats.size() && setup_.seats[hint].player_id == player_id) return hint;
  for (std::uint32_t seat = 0; seat < setup_.seats.size(); ++seat)
    if (setup_.seats[seat].player_id == player_id) return seat;
  return std::nullopt;
}

void GameRunner::take_over(std::uint32_t seat, core::AiDifficulty difficulty) {
  if (stopped_ || finished_ || seat >= setup_.seats.size()) return;
  setup_.seats[seat].ai = true;
  setup_.seats[seat].difficulty = difficulty;
  submit(seat, 0, core::ai_takeover_input_data(difficulty));
}

void GameRunner::schedule_tick() {
  timer_.expires_at(next_tick_at_);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec && !self->stopped_) self->on_tick();
  });
}

void GameRunner::on_tick() {
  const auto now = steady_clock::now();
  // Late by more than a few periods (a stalled process, an overloaded core): drop the
  // backlog instead of running it back to back, and count what was dropped.
  const auto late = static_cast<std::uint64_t>((now - next_tick_at_) / period_);
  if (late > kMaxCatchUpTicks) {
    metrics_.tick_overruns(setup_.game).inc(late);
    next_tick_at_ = core::tick_grid_floor(now, period_, lane_.offset(period_));  // back on its lane
  }
  run_step(tick_ + 1);
  if (finished_) return;
  next_tick_at_ += period_;  // from the schedule, not from now: no drift
  schedule_tick();
}

core::Tick GameRunner::now_tick() const {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started_at_).count();
  return std::max<core::Tick>(tick_, static_cast<core::Tick>(ms));
}

void GameRunner::schedule_deadline() {
  if (finished_ || stopped_) return;
  const auto deadline = game_->next_deadline();
  if (!deadline) return;
  timer_.expires_at(started_at_ + std::chrono::milliseconds(*deadline));
  timer_.async_wait([self = shared_from_this(), d = *deadline](boost::system::error_code ec) {
    if (ec || self->stopped_ || self->finished_) return;
    self->run_step(std::max(self->now_tick(), d));
    self->schedule_deadline();
  });
}

void GameRunner::run_step(core::Tick tick) {
  // debug.tick_delay_us: a server slowed on purpose, so the load-test gate can prove it
  // fails. It blocks the room's thread, which production code must never do.
  if (setup_.debug_tick_delay.count() > 0) std::this_thread::sleep_for(setup_.debug_tick_delay);
  const auto t0 = steady_clock::now();
  // The step's frames to members on this thread go out in one system call when it closes.
  std::optional<SendBatch::Scope> sends(std::in_place);
  tick_ = tick;
  std::vector<core::GameInput> inputs;
  inputs.swap(pending_);
  std::vector<json> rids;  // parallel to inputs: a refusal echoes its request's rid
  rids.swap(pending_rids_);
  std::fill(pending_per_seat_.begin(), pending_per_seat_.end(), 0);
  core::StepOutput out;
  game_->step(tick, inputs, rng_, out);
  // Refusals go out first, each with the rid of the input it names (seat + input_seq).
  std::vector<bool> answered(inputs.size(), false);
  for (const auto& r : out.refusals) {
    json rid;
    for (std::size_t i = 0; i < inputs.size(); ++i)
      if (!answered[i] && inputs[i].seat == r.seat && inputs[i].input_seq == r.input_seq) {
        answered[i] = true;
        rid = rids[i];
        break;
      }
    host_.send_to_seat(r.seat, refusal_message(r, rid));
  }
  out.refusals.clear();
  record_step(tick, inputs, out);
  host_.on_step(out);
  publish(tick, out);
  sends.reset();
  // The queues keep their buffers for the next tick's inputs (unless a recorder took them).
  inputs.clear();
  rids.clear();
  if (pending_.empty()) pending_.swap(inputs);
  if (pending_rids_.empty()) pending_rids_.swap(rids);
  metrics_.tick_duration(setup_.game).observe(std::chrono::duration<double>(steady_clock::now() - t0).count());
  if (game_->finished() && !finished_) {
    finished_ = true;
    lane_.reset();
    timer_.cancel();
    record_end("completed");
    host_.game_over(game_->result());
  }
}

std::uint64_t GameRunner::state_hash() const {
  core::StateHasher h;
  game_->hash(h);
  return h.value();
}

// Fixed-rate games step every tick, so only ticks with inputs are recorded; an
// event-driven game's steps run at wall-clock ticks, so every one is.
void GameRunner::record_step(core::Tick tick, std::vector<core::GameInput>& inputs, const core::StepOutput& out) {
  auto& rec = setup_.recorder;
  if (!rec) return;
  const bool fixed_rate = game_->tick_hz() > 0;
  if (!inputs.empty() || !fixed_rate) rec->record(core::RecordedStep{tick, std::move(inputs)});
  for (const auto& e : out.events) rec->record(core::RecordedEvent{tick, e});
  const auto hash = state_hash();
  if (fixed_rate) {
    char low[9];
    std::snprintf(low, sizeof low, "%08x", static_cast<unsigned>(hash & 0xFFFFFFFFu));
    tick_hashes_ += low;
    if (setup_.hash_every == 0 || tick % setup_.hash_every != 0) return;
  }
  rec->record(core::RecordedHash{tick, hash, game_->snapshot(), std::exchange(tick_hashes_, {})});
}

void GameRunner::record_end(const char* status) {
  if (!setup_.recorder) return;
  const auto hash = state_hash();
  if (!tick_hashes_.empty())  // a last checkpoint covers the ticks since the previous one
    setup_.recorder->record(core::RecordedHash{tick_, hash, game_->snapshot(), std::exchange(tick_hashes_, {})});
  const bool completed = std::string_view(status) == "completed";
  setup_.recorder->record(core::RecordedEnd{tick_, hash, status, completed ? game_->result() : json()});
}

void GameRunner::publish(core::Tick tick, core::StepOutput& out) {
  for (auto& [seat, event] : out.private_events)
    host_.send_to_seat(seat, core::encode_message(core::ServerType::game_event,
                                                  {{"code", setup_.code}, {"tick", tick}, {"event", std::move(event)}}));
  if (auto state = state_message(setup_.code, tick, out, *game_, &last_state_bytes_)) host_.broadcast(state);
}

}  // namespace mtown::server
