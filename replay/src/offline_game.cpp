#include "mtown/replay/offline_game.hpp"

#include <cstdio>

#include "mtown/games/registry.hpp"

namespace mtown::replay {

OfflineGame::OfflineGame(core::RecordingHeader header)
    : game_(games::create_game(header.game, header.options)), rng_(header.seed) {
  header.game_version = game_->version();
  header.tick_hz = game_->tick_hz();
  if (header.tick_hz == 0) header.hash_every = 0;
  recording_.header = std::move(header);
  game_->start(recording_.header.seats, rng_);
}

std::uint64_t OfflineGame::hash() const {
  core::StateHasher h;
  game_->hash(h);
  return h.value();
}

void OfflineGame::step(core::Tick tick, std::vector<core::GameInput> inputs) {
  core::StepOutput out;
  game_->step(tick, inputs, rng_, out);
  tick_ = tick;
  const bool fixed_rate = game_->tick_hz() > 0;
  auto& entries = recording_.entries;
  if (!inputs.empty() || !fixed_rate) entries.push_back(core::RecordedStep{tick, std::move(inputs)});
  for (auto& e : out.events) entries.push_back(core::RecordedEvent{tick, std::move(e)});
  const auto h = hash();
  if (fixed_rate) {
    char low[9];
    std::snprintf(low, sizeof low, "%08x", static_cast<unsigned>(h & 0xFFFFFFFFu));
    tick_hashes_ += low;
    const auto every = recording_.header.hash_every;
    if (every == 0 || tick % every != 0) return;
  }
  entries.push_back(core::RecordedHash{tick, h, game_->snapshot(), std::exchange(tick_hashes_, {})});
}

void OfflineGame::finish(const char* status) {
  if (!tick_hashes_.empty())
    recording_.entries.push_back(core::RecordedHash{tick_, hash(), game_->snapshot(), std::exchange(tick_hashes_, {})});
  const bool completed = std::string_view(status) == "completed";
  recording_.entries.push_back(core::RecordedEnd{tick_, hash(), status, completed ? game_->result() : nlohmann::json()});
}

}  // namespace mtown::replay
