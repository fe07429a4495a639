// A log-linear latency histogram in the manner of HdrHistogram: exact below 128, then 128
// equal sub-buckets per power of two, so a bucket is at most 1/128 of its value wide and
// a percentile read from it is within 0.4 % of the true sample (1 % is the promise).
// Plain counts: histograms of different threads merge by adding. Not thread-safe; each
// worker thread owns its own and the runner merges them.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

namespace mtown::loadtest {

class Histogram {
 public:
  static constexpr int kSubBits = 7;                  // 128 sub-buckets per octave
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kOctaves = 64 - kSubBits;      // enough for any uint64_t value
  static constexpr int kBuckets = kSub + kOctaves * kSub;

  Histogram() : counts_(kBuckets, 0) {}

  void record(std::uint64_t value, std::uint64_t count = 1);
  void merge(const Histogram& other);
  void reset();

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }
  // The value at quantile q (0..1): the midpoint of the bucket holding the ceil(q*N)-th
  // smallest sample, clamped to [min, max]. 0 for an empty histogram.
  std::uint64_t percentile(double q) const;

  // Non-empty buckets as (lowest value, highest value, count), for reports and charts.
  struct Bucket {
    std::uint64_t low, high, count;
  };
  std::vector<Bucket> buckets() const;

  static int index_of(std::uint64_t value);
  static std::uint64_t lowest_of(int index);
  static std::uint64_t highest_of(int index);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0, sum_ = 0, min_ = UINT64_MAX, max_ = 0;
};

}  // namespace mtown::loadtest
