#include "mtown/loadtest/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace mtown::loadtest {

int Histogram::index_of(std::uint64_t value) {
  if (value < static_cast<std::uint64_t>(kSub)) return static_cast<int>(value);
  const int msb = 63 - std::countl_zero(value);  // >= kSubBits
  const int shift = msb - kSubBits;
  const auto mantissa = static_cast<int>(value >> shift);  // kSub .. 2*kSub-1
  return kSub + shift * kSub + (mantissa - kSub);
}

std::uint64_t Histogram::lowest_of(int index) {
  if (index < kSub) return static_cast<std::uint64_t>(index);
  const int shift = (index - kSub) / kSub;
  const auto mantissa = static_cast<std::uint64_t>(kSub + (index - kSub) % kSub);
  return mantissa << shift;
}

std::uint64_t Histogram::highest_of(int index) {
  if (index < kSub) return static_cast<std::uint64_t>(index);
  const int shift = (index - kSub) / kSub;
  return lowest_of(index) + ((std::uint64_t{1} << shift) - 1);
}

void Histogram::record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  counts_[static_cast<std::size_t>(index_of(value))] += count;
  count_ += count;
  sum_ += value * count;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = max_ = 0;
  min_ = UINT64_MAX;
}

std::uint64_t Histogram::percentile(double q) const {
  if (count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_))));
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[static_cast<std::size_t>(i)];
    if (seen >= rank) {
      const std::uint64_t mid = lowest_of(i) + (highest_of(i) - lowest_of(i)) / 2;
      return std::clamp(mid, min(), max_);
    }
  }
  return max_;
}

std::vector<Histogram::Bucket> Histogram::buckets() const {
  std::vector<Bucket> out;
  for (int i = 0; i < kBuckets; ++i)
    if (const auto c = counts_[static_cast<std::size_t>(i)]) out.push_back({lowest_of(i), highest_of(i), c});
  return out;
}

}  // namespace mtown::loadtest
