// The scenarios' bots. A new scenario is one more Bot subclass here, a case in make_bot()
// (worker.cpp) and a name in Scenario (options.hpp).
#pragma once
#include <deque>
#include <functional>

#include "mtown/loadtest/input_schedule.hpp"
#include "mtown/loadtest/wire.hpp"
#include "worker.hpp"

namespace mtown::loadtest {

class ArenaBot final : public Bot {
 public:
  using Bot::Bot;
  void finish(Stats& s) override;

 private:
  void on_open() override;
  void on_message(const json& m, Clock::time_point now) override;
  bool on_fast(std::string_view msg, Clock::time_point now) override;
  void on_game_started(const json& m, Clock::time_point now);
  void arm();
  void on_timer();

  InputSchedule schedule_;
  int seat_ = -1;
  bool playing_ = false, restarted_once_ = false;
  Clock::duration tick_period_{};
  Clock::time_point last_state_at_{};
  std::uint64_t last_tick_ = 0, state_in_window_ = 0;
};

class PartyBot final : public Bot {
 public:
  using Bot::Bot;

 private:
  void on_open() override;
  void on_message(const json& m, Clock::time_point now) override;
  void on_snapshot(const json& snap, Clock::time_point now);
  void vote(const std::string& answer, int key);
  void act_later(std::function<void()> act);
  std::shared_ptr<PartyBot> shared() { return std::static_pointer_cast<PartyBot>(shared_from_this()); }

  int seat_ = -1, phase_key_ = -1;
  bool last_voter_ = false;
  std::string my_answer_;
};

class IdleBot final : public Bot {
 public:
  using Bot::Bot;
  void finish(Stats& s) override;

 private:
  void on_open() override;
  void on_message(const json& m, Clock::time_point now) override;
  void arm();

  Clock::duration period_{};
  Clock::time_point next_due_{};
  std::uint64_t next_rid_ = 1;
  std::deque<std::pair<std::uint64_t, Clock::time_point>> pending_;  // rid, due
};

// Churn bots fill an arena room like arena bots (and keep it running), send no inputs, and
// every ~1/--churn-rate seconds in the window drop their connection and resume it
// (Bot::drop_and_resume); Bot measures the resumes and checks every seq.
class ChurnBot final : public Bot {
 public:
  using Bot::Bot;
  void finish(Stats& s) override { finish_resume(s); }

 private:
  void on_open() override;
  void on_message(const json& m, Clock::time_point now) override;
  bool on_fast(std::string_view msg, Clock::time_point now) override;
  void arm();

  bool started_ = false;  // a game started: drops armed, and the host restarts matches
};

}  // namespace mtown::loadtest
