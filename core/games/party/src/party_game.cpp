// The party game behind core::Game: a thin adapter over party::Rules and the views.
// Called on the room's strand only; holds no state outside Rules.
#include <stdexcept>

#include "mtown/games/party.hpp"
#include "party_input.hpp"
#include "party_rules.hpp"
#include "party_view.hpp"

namespace mtown::games {
namespace {

class PartyGame final : public core::Game {
 public:
  explicit PartyGame(party::Config config) : rules_(std::move(config)) {}

  std::string_view name() const override { return "party"; }
  std::uint32_t version() const override { return party::kVersion; }
  std::uint32_t tick_hz() const override { return 0; }

  std::optional<core::InputRefusal> validate_input(const nlohmann::json& data) const override {
    return party::validate_input_data(data);
  }
  bool is_host_action(const nlohmann::json& data) const override { return party::is_host_input(data); }

  void start(std::vector<core::GameSeat> seats, core::Rng& rng) override { rules_.start(std::move(seats), rng); }
  void step(core::Tick tick, std::span<const core::GameInput> inputs, core::Rng& rng,
            core::StepOutput& out) override {
    rules_.step(tick, inputs, rng, out);
  }
  std::optional<core::Tick> next_deadline() const override { return rules_.next_deadline(); }

  nlohmann::json snapshot() const override { return party::snapshot_json(rules_.state()); }
  void hash(core::StateHasher& h) const override { party::hash_state(rules_.state(), h); }
  bool finished() const override { return rules_.state().phase == party::Phase::final_; }
  nlohmann::json result() const override { return party::result_json(rules_.state()); }

 private:
  party::Rules rules_;
};

}  // namespace

std::unique_ptr<core::Game> make_party(const nlohmann::json& options) {
  return std::make_unique<PartyGame>(party::parse_options(options));
}

}  // namespace mtown::games
