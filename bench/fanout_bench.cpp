// Encode + fan-out of one state message to N sessions' send queues: the work a room
// does per broadcast. "Shared" serializes once and shares the buffer (what the server
// does); "PerRecipient" serializes for every recipient, for comparison.
#include <benchmark/benchmark.h>

#include <vector>

#include "mtown/core/protocol.hpp"
#include "mtown/server/outbound_queue.hpp"

namespace {

using mtown::core::ServerType;
using nlohmann::json;

json sample_room_state(int players) {
  json list = json::array();
  for (int i = 0; i < players; ++i)
    list.push_back({{"id", "p_" + std::to_string(1000000 + i)}, {"name", "player" + std::to_string(i)},
                    {"is_host", i == 0}, {"connected", true}, {"ai", false}});
  return {{"room", {{"code", "KX7P"}, {"game", "arena"}, {"max_players", 8}, {"public", true},
                    {"status", "waiting"}, {"host", "p_1000000"}, {"players", list},
                    {"created_at_ms", 1763724000000}, {"expires_at_ms", 1763738400000}}}};
}

void BM_Encode(benchmark::State& state) {
  const json fields = sample_room_state(8);
  for (auto _ : state) benchmark::DoNotOptimize(mtown::core::encode_message(ServerType::room_state, fields));
}
BENCHMARK(BM_Encode);

void BM_FanOutShared(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<mtown::server::OutboundQueue> queues(n, mtown::server::OutboundQueue(1 << 20));
  const json fields = sample_room_state(8);
  for (auto _ : state) {
    const auto msg = mtown::core::encode_message(ServerType::room_state, fields);
    for (auto& q : queues) q.push(msg);
    for (auto& q : queues) q.pop();  // keep queues at steady state, as writers do
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_FanOutShared)->Arg(8)->Arg(1000);

void BM_FanOutPerRecipient(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::vector<mtown::server::OutboundQueue> queues(n, mtown::server::OutboundQueue(1 << 20));
  const json fields = sample_room_state(8);
  for (auto _ : state) {
    for (auto& q : queues) q.push(mtown::core::encode_message(ServerType::room_state, fields));
    for (auto& q : queues) q.pop();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_FanOutPerRecipient)->Arg(8)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
