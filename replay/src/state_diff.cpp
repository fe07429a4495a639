#include "mtown/replay/state_diff.hpp"

namespace mtown::replay {
namespace {

using nlohmann::json;

std::string escape(const std::string& key) {  // RFC 6901: "~" -> "~0", "/" -> "~1"
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

struct Differ {
  std::vector<FieldDiff> out;
  std::size_t limit;

  void walk(const json* expected, const json* actual, const std::string& path) {
    if (out.size() >= limit) return;
    static const json missing;
    const json& e = expected ? *expected : missing;
    const json& a = actual ? *actual : missing;
    if (e == a) return;
    if (e.is_object() && a.is_object()) {
      for (auto it = e.begin(); it != e.end(); ++it) {
        const auto other = a.find(it.key());
        walk(&*it, other == a.end() ? nullptr : &*other, path + "/" + escape(it.key()));
      }
      for (auto it = a.begin(); it != a.end(); ++it)
        if (!e.contains(it.key())) walk(nullptr, &*it, path + "/" + escape(it.key()));
      return;
    }
    if (e.is_array() && a.is_array()) {
      const std::size_t n = std::max(e.size(), a.size());
      for (std::size_t i = 0; i < n; ++i)
        walk(i < e.size() ? &e[i] : nullptr, i < a.size() ? &a[i] : nullptr, path + "/" + std::to_string(i));
      return;
    }
    out.push_back({path, e, a});
  }
};

}  // namespace

std::vector<FieldDiff> diff_states(const json& expected, const json& actual, const std::string& prefix,
                                   std::size_t limit) {
  Differ d{{}, limit};
  d.walk(&expected, &actual, prefix);
  return std::move(d.out);
}

}  // namespace mtown::replay
