#pragma once
// The etcd store's requests in flight, each answered exactly once: by its
// outcome, by its deadline (a `timeout` error: the outcome is unknown), or
// by the store's stop (unavailable). The gateway bounds each step of each
// endpoint it tries, so a request that tries them all may take several of
// those bounds; this is the one bound the caller was promised
// (EtcdStoreSettings::request_timeout), and the guarantee that stop()
// leaves no callback unanswered.
//
// Thread rule: the store thread only (the io_context's), where the
// guarded callbacks, the timers and fail_all run.

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "store/replicated_store.hpp"

namespace meridian::etcd {

class RequestDeadlines {
 public:
  RequestDeadlines(boost::asio::io_context& io, std::chrono::milliseconds limit)
      : io_(io), limit_(limit) {}

  /// `done`, answered once: the first of the returned callback's call, the
  /// deadline and fail_all wins; the others are dropped.
  template <class T>
  store::StoreCallback<T> guard(store::StoreCallback<T> done) {
    auto slot = std::make_shared<store::StoreCallback<T>>(std::move(done));
    const std::uint64_t id = next_id_++;
    auto answer_once = [slot](T value, std::optional<store::StoreError> error) {
      if (!*slot) return;
      auto callback = std::move(*slot);
      *slot = nullptr;
      callback(std::move(value), std::move(error));
    };
    auto [entry, inserted] = waiting_.try_emplace(
        id, io_, [answer_once](const store::StoreError& error) { answer_once(T{}, error); });
    entry->second.timer.expires_after(limit_);
    entry->second.timer.async_wait([this, id](const boost::system::error_code& error) {
      if (!error) expire(id);
    });
    return [this, id, answer_once](T value, std::optional<store::StoreError> error) {
      forget(id);
      answer_once(std::move(value), std::move(error));
    };
  }

  /// Answers every request still waiting with `error`.
  void fail_all(const store::StoreError& error) {
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& [id, entry] : waiting) {
      entry.timer.cancel();
      entry.fail(error);
    }
  }

 private:
  struct Entry {
    Entry(boost::asio::io_context& io, std::function<void(const store::StoreError&)> on_fail)
        : timer(io), fail(std::move(on_fail)) {}
    boost::asio::steady_timer timer;
    std::function<void(const store::StoreError&)> fail;
  };

  void expire(std::uint64_t id) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    auto fail = std::move(it->second.fail);
    waiting_.erase(it);
    fail(store::StoreError{store::StoreErrorKind::timeout, "etcd did not answer in " +
                                                               std::to_string(limit_.count()) +
                                                               " ms; the outcome is unknown"});
  }

  void forget(std::uint64_t id) {
    auto it = waiting_.find(id);
    if (it == waiting_.end()) return;
    it->second.timer.cancel();
    waiting_.erase(it);
  }

  boost::asio::io_context& io_;
  std::chrono::milliseconds limit_;
  std::map<std::uint64_t, Entry> waiting_;
  std::uint64_t next_id_ = 0;
};

}  // namespace meridian::etcd
