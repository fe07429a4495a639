// Spreads fixed-rate rooms over evenly spaced phases ("lanes") of their period. On one
// shared grid every room ticks at the same instant and, with one io thread, the state
// messages of all rooms leave in one burst: an input that arrives during it waits for
// the burst, and the last rooms send long after their tick. In N lanes each burst is 1/N
// of that (800 arena clients: p95 21-23 -> 17 ms with 8 lanes), and the timer still runs
// N expiries a period, not one per room (docs/performance.md, "Tick lanes").
// Thread-safe: rooms on different strands take and give back lanes.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace mtown::core {

class TickLanes {
 public:
  static constexpr unsigned kMaxLanes = 64;

  // `lanes` in [1, kMaxLanes] (rooms.tick_lanes); 1 puts every room on the plain grid.
  explicit TickLanes(unsigned lanes);
  TickLanes(const TickLanes&) = delete;
  TickLanes& operator=(const TickLanes&) = delete;

 private:
  struct Counts;

 public:
  // A room's hold on one lane, given back when the lease is reset or destroyed (it may
  // outlive the TickLanes it came from).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    void reset();
    bool held() const { return owner_ != nullptr; }
    unsigned lane() const { return lane_; }
    // This lane's shift from the plain grid for a room of `period`: lane/lanes of it.
    std::chrono::nanoseconds offset(std::chrono::nanoseconds period) const;

   private:
    friend class TickLanes;
    Lease(std::shared_ptr<Counts> owner, unsigned lane) : owner_(std::move(owner)), lane_(lane) {}
    std::shared_ptr<Counts> owner_;
    unsigned lane_ = 0;
  };

  // The lane with the fewest rooms now (the lowest such lane on a tie).
  Lease acquire();
  std::uint32_t rooms_in(unsigned lane) const;

 private:
  struct Counts {
    std::mutex mutex;
    std::vector<std::uint32_t> rooms;  // per lane; its size never changes
  };
  std::shared_ptr<Counts> counts_;
};

}  // namespace mtown::core
