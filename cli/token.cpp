// `mtown token`: mints a player token (HS256 JWT) with the server's auth settings, for
// ops and tests: flags -> Config -> core::mint_player_token -> stdout.
#include <charconv>
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "config_loader.hpp"
#include "mtown/core/auth.hpp"

namespace mtown::cli {
namespace {

constexpr std::int64_t kMaxTtlS = 366LL * 24 * 3600;

struct TokenFlags {
  std::string config_path;
  std::vector<std::string> sets;
  std::string player;
  std::string ttl = "1h";
  std::string name;
  bool dev = false;
};

// "90", "90s", "15m", "1h", "7d" -> seconds; nullopt when malformed or out of 1 s..366 d.
std::optional<std::int64_t> parse_ttl(const std::string& text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || n <= 0) return std::nullopt;
  const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::int64_t scale = 0;
  if (unit.empty() || unit == "s") scale = 1;
  else if (unit == "m") scale = 60;
  else if (unit == "h") scale = 3600;
  else if (unit == "d") scale = 86400;
  else return std::nullopt;
  if (n > kMaxTtlS / scale) return std::nullopt;
  return n * scale;
}

int run(const TokenFlags& flags) {
  const auto ttl = parse_ttl(flags.ttl);
  if (!ttl) {
    std::fprintf(stderr, "mtown token: --ttl: expected a duration such as 90s, 15m, 1h or 7d (at most 366d), got \"%s\"\n",
                 flags.ttl.c_str());
    return kExitUsage;
  }
  if (!core::is_valid_player_id(flags.player)) {
    std::fprintf(stderr, "mtown token: --player: 1-64 characters from A-Z a-z 0-9 _ . : @ -, not starting with ai_\n");
    return kExitUsage;
  }
  auto config = core::ServeConfig::from(load_config(flags.config_path, flags.sets));
  core::resolve_auth(config, flags.dev);
  const auto token = core::mint_player_token(config, flags.player, *ttl, core::epoch_s(), flags.name);
  std::printf("%s\n", token.c_str());
  return kExitOk;
}

}  // namespace

Command add_token(CLI::App& app) {
  auto flags = std::make_shared<TokenFlags>();
  app.add_option("--player", flags->player, "the player id (the token's sub)")->required();
  app.add_option("--ttl", flags->ttl, "lifetime: 90s, 15m, 1h (default), 7d");
  app.add_option("--name", flags->name, "optional display name claim");
  app.add_option("-c,--config", flags->config_path, "YAML config file, as for serve (auth.* keys)");
  app.add_option("--set", flags->sets, "set a config key: --set auth.audience=my-game (repeatable)");
  app.add_flag("--dev", flags->dev, "sign with the development secret when none is set (as serve --dev)");
  app.footer("Prints the token on stdout. The secret comes from auth.jwt_secret (MTOWN_AUTH_JWT_SECRET).\n"
             "Exit codes: 0 printed, 1 failure, 2 bad flag, bad config or no secret (without --dev).");
  return config_checked("token", [flags] { return run(*flags); });
}

}  // namespace mtown::cli
