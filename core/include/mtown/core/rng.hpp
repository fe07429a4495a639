// The room's seeded random generator: xoshiro256** seeded through splitmix64. Same seed,
// same sequence, on every platform and run; game code draws only from this.
#pragma once
#include <array>
#include <cstdint>

namespace mtown::core {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t next();
  // Uniform in [0, n); n > 0. Unbiased (rejection), so results don't depend on n's form.
  std::uint32_t below(std::uint32_t n);
  // Uniform in [lo, hi] (inclusive); lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  // True with probability numerator/denominator.
  bool chance(std::uint32_t numerator, std::uint32_t denominator) { return below(denominator) < numerator; }

  const std::array<std::uint64_t, 4>& state() const { return s_; }

 private:
  std::array<std::uint64_t, 4> s_{};
};

}  // namespace mtown::core
