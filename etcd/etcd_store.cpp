#include "etcd/etcd_store.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "base/assert.hpp"
#include "etcd/codec.hpp"
#include "etcd/request_deadlines.hpp"
#include "store/lease_book.hpp"

namespace meridian::etcd {

namespace asio = boost::asio;
namespace json = boost::json;
using store::KvCommand;
using store::KvResult;
using store::StoreError;
using store::StoreErrorKind;

namespace {

constexpr std::string_view kComponent = "etcd";
/// How long a write's answer waits for the mirror to show it.
constexpr std::chrono::milliseconds kMirrorWait{1000};
constexpr std::chrono::milliseconds kBackoffMin{100};
constexpr std::chrono::milliseconds kBackoffMax{3000};
/// The member list is asked for every this many ticks.
constexpr std::uint64_t kMembersEvery = 10;

StoreError unavailable(const std::string& why) {
  return StoreError{StoreErrorKind::unavailable, why};
}

/// A gateway error answer as a store error: invalid when etcd says the
/// request itself is wrong (gRPC InvalidArgument, FailedPrecondition,
/// OutOfRange), unavailable otherwise (too many requests, no leader, ...):
/// retrying may help.
StoreError refused(const json::object& answer, const std::string& error) {
  auto code = int_member(answer, "code");
  const bool bad_request = code && (*code == 3 || *code == 9 || *code == 11);
  return StoreError{bad_request ? StoreErrorKind::invalid : StoreErrorKind::unavailable,
                    "etcd refused it: " + error};
}

/// The kvs of a range's answer, or why there are none: an error answer is
/// an error, never an empty range.
struct RangeAnswer {
  std::vector<KeyValue> kvs;
  std::optional<StoreError> error;
};

RangeAnswer range_answer(const Result<json::object>& answer) {
  if (!answer) return {{}, unavailable("etcd: " + answer.error().message)};
  if (auto error = gateway_error(*answer)) return {{}, refused(*answer, *error)};
  auto kvs = range_kvs(*answer);
  if (!kvs) return {{}, unavailable("etcd: " + kvs.error().message)};
  return {std::move(*kvs), std::nullopt};
}

std::int64_t seconds_up(std::chrono::milliseconds duration) {
  return std::max<std::int64_t>(1, (duration.count() + 999) / 1000);
}

}  // namespace

struct EtcdStore::Impl : std::enable_shared_from_this<EtcdStore::Impl> {
  Impl(EtcdStoreSettings settings, Logger& logger, const Clock& clock)
      : settings(std::move(settings)),
        logger(logger),
        clock(clock),
        work(io.get_executor()),
        deadlines(io, this->settings.request_timeout),
        tick_timer(io),
        mirror(store::make_memory_kv()),
        leases(clock) {}

  // ---- keys ------------------------------------------------------------------

  std::string full(std::string_view key) const { return settings.prefix + std::string(key); }
  std::string b64(std::string_view key) const { return base64_encode(full(key)); }
  /// The seam key of an etcd key, or nullopt when it is not under the prefix.
  std::optional<std::string> seam_key(const std::string& key) const {
    if (!key.starts_with(settings.prefix) || key.size() == settings.prefix.size())
      return std::nullopt;
    return key.substr(settings.prefix.size());
  }
  json::object range_of(std::string_view prefix) const {
    return json::object{{"key", b64(prefix)},
                        {"range_end", base64_encode(prefix_range_end(full(prefix)))}};
  }

  // ---- lifecycle -------------------------------------------------------------

  void run() {
    thread = std::thread([this] { io.run(); });
    asio::post(io, [self = shared_from_this()] {
      self->sync();
      self->on_tick();
    });
  }

  /// Runs `task` on the store thread; false once stopping.
  bool post(std::function<void()> task) {
    std::lock_guard lock(lifecycle_mutex);
    if (stopping) return false;
    asio::post(io, std::move(task));
    return true;
  }

  void shutdown() {
    {
      std::lock_guard lock(lifecycle_mutex);
      if (stopping) return;
      stopping = true;
    }
    // Leave at once rather than when the leases expire: a new decider
    // takes over without waiting.
    auto revoked = std::make_shared<std::promise<void>>();
    auto future = revoked->get_future();
    asio::post(io, [this, revoked] {
      auto left = std::make_shared<int>(1);
      const auto finish = [left, revoked] {
        if (--*left == 0) revoked->set_value();
      };
      for (std::int64_t id : {lease_id, election_lease}) {
        if (id == 0) continue;
        ++*left;
        gateway->call("/v3/lease/revoke", json::object{{"ID", std::to_string(id)}},
                      [finish](const Result<json::object>&) { finish(); });
      }
      finish();
    });
    future.wait_for(settings.request_timeout);
    asio::post(io, [this] {
      if (watch_stream) watch_stream->stop();
      tick_timer.cancel();
      fail_everything(unavailable("the store is stopping"));
      deadlines.fail_all(unavailable("the store is stopping"));
      work.reset();
      io.stop();
    });
    if (thread.joinable()) thread.join();
    // A stopped store decides nothing, whatever it last published.
    std::lock_guard lock(status_mutex);
    published_deciding = false;
    published.role = store::Role::follower;
    published.leader.clear();
    published.leader_id = 0;
  }

  void fail_everything(const StoreError& error) {
    auto waiting = std::move(mirror_waits);
    mirror_waits.clear();
    for (auto& [revision, wait] : waiting) wait.done({}, error);
  }

  // ---- the mirror: load, watch, resume -----------------------------------------

  /// (Re)loads the whole prefix, fires the differences, and watches on.
  void sync() {
    if (watch_stream) {
      watch_stream->stop();
      watch_stream.reset();
    }
    gateway->call("/v3/kv/range", range_of(""),
                  [self = shared_from_this()](Result<json::object> answer) {
                    self->synced(std::move(answer));
                  });
  }

  void synced(Result<json::object> answer) {
    if (answer) {
      if (auto error = gateway_error(*answer)) answer = fail("range: ", *error);
    }
    std::optional<std::int64_t> at;
    std::vector<KeyValue> kvs;
    if (answer) {
      auto revision = header_revision(*answer);
      auto range = range_kvs(*answer);
      if (revision && range) {
        at = *revision;
        kvs = std::move(*range);
      } else {
        answer = revision ? range.error() : revision.error();
      }
    }
    if (!at) {
      logger.warn(kComponent,
                  "cannot load " + settings.prefix + ": " + answer.error().message + "; retrying");
      return retry_sync();
    }
    backoff = kBackoffMin;
    // The differences between what the mirror holds and etcd's state fire as changes.
    std::map<std::string, std::string> target;
    for (KeyValue& kv : kvs) {
      if (auto key = seam_key(kv.key)) target[*key] = std::move(kv.value);
      track_election(kv, false);
    }
    // Deleted while the watch was away and compacted past: no event says so.
    if (!target.count(std::string(kElectionKey))) lose_election("the election key is gone");
    for (const auto& [key, value] : mirror->scan("", SIZE_MAX)) {
      if (!target.count(key)) apply_change(store::KvDelete{key});
    }
    for (const auto& [key, value] : target) {
      if (mirror->get(key) != value) apply_change(store::KvPut{key, value});
    }
    if (!mirror_loaded)
      logger.info(kComponent,
                  "following " + settings.prefix + " at revision " + std::to_string(*at));
    if (!mirror_loaded) first_load.set_value();
    mirror_loaded = true;
    revision = *at;
    settle_waits();
    start_watch();
  }

  void retry_sync() {
    auto timer = std::make_shared<asio::steady_timer>(io, backoff);
    backoff = std::min(backoff * 2, kBackoffMax);
    timer->async_wait([timer, self = shared_from_this()](const boost::system::error_code& error) {
      if (!error && !self->stopping) self->sync();
    });
  }

  void start_watch() {
    watch_heard = clock.now();
    json::object create = range_of("");
    create["start_revision"] = std::to_string(revision + 1);
    const std::uint64_t generation = ++watch_generation;
    std::weak_ptr<Impl> weak = weak_from_this();
    watch_stream = gateway->watch(
        "/v3/watch", json::object{{"create_request", std::move(create)}},
        [weak, generation](std::string_view line) {
          if (auto self = weak.lock(); self && self->watch_generation == generation)
            self->on_watch_line(line);
        },
        [weak, generation](const Error& why) {
          if (auto self = weak.lock(); self && self->watch_generation == generation)
            self->on_watch_end(why);
        });
  }

  void on_watch_line(std::string_view line) {
    watch_heard = clock.now();
    auto message = parse_watch_message(line);
    if (!message) {
      logger.warn(kComponent, "a watch message: " + message.error().message);
      return;
    }
    // The watch works again: its next loss is retried soon, not after the
    // longest backoff an outage left behind.
    backoff = kBackoffMin;
    if (message->canceled) {
      // Compacted past what the mirror has seen: load it again (only the
      // differences fire), then watch from there.
      logger.info(kComponent,
                  "the watch was canceled" +
                      (message->compact_revision > 0
                           ? " (compacted to " + std::to_string(message->compact_revision) + ")"
                           : std::string()) +
                      (message->cancel_reason.empty() ? "" : ": " + message->cancel_reason) +
                      "; loading " + settings.prefix + " again");
      ++watch_generation;  // this stream's end is expected
      return sync();
    }
    // A watch resumed from revision + 1 never sends a change twice.
    for (const WatchEvent& event : message->events) {
      track_election(event.kv, event.deleted);
      if (auto key = seam_key(event.kv.key)) {
        if (event.deleted) {
          apply_change(store::KvDelete{*key});
        } else {
          apply_change(store::KvPut{*key, event.kv.value});
        }
      }
      revision = std::max(revision, event.kv.mod_revision);
    }
    // A message without events that is not the creation's answer is a
    // progress report: every change up to its revision has been sent.
    if (message->events.empty() && !message->created)
      revision = std::max(revision, message->revision);
    settle_waits();
  }

  /// A watch whose member has shown no sign of life (a message, or a status
  /// answer naming a leader) for unreachable_after is resumed on the member
  /// the calls reach: a frozen or cut-off member keeps the connection open
  /// and sends nothing, and the mirror would stop following for good.
  void check_watch() {
    if (!watch_stream || clock.now() - watch_heard < settings.unreachable_after) return;
    const auto silent = watch_stream->endpoint();
    logger.warn(kComponent, "the watch of " + settings.prefix + " heard nothing from " +
                                (silent ? silent->to_string() : std::string("any member")) +
                                " for " + std::to_string(settings.unreachable_after.count()) +
                                " ms; resuming from revision " + std::to_string(revision + 1) +
                                " through " + gateway->current().to_string());
    ++watch_generation;  // the old stream's end is expected
    watch_stream->stop();
    start_watch();
  }

  void on_watch_end(const Error& why) {
    if (stopping) return;
    logger.warn(kComponent, "the watch of " + settings.prefix + " ended (" + why.message +
                                "); resuming from revision " + std::to_string(revision + 1));
    auto timer = std::make_shared<asio::steady_timer>(io, backoff);
    backoff = std::min(backoff * 2, kBackoffMax);
    timer->async_wait([timer, self = shared_from_this()](const boost::system::error_code& error) {
      if (!error && !self->stopping) self->start_watch();
    });
  }

  void apply_change(const KvCommand& command) {
    auto applied = mirror->apply(++mirror_index, command);
    MERIDIAN_ASSERT(applied.ok(), "the memory mirror refused a change");
  }

  // ---- writes ----------------------------------------------------------------

  struct MirrorWait {
    store::StoreCallback<KvResult> done;
    KvResult result;
    Clock::TimePoint deadline;
  };

  /// Answers `done` with `result` once the mirror shows `at` (or a second later).
  void answer_when_mirrored(std::int64_t at, KvResult result, store::StoreCallback<KvResult> done) {
    if (at <= revision) return done(std::move(result), std::nullopt);
    mirror_waits.emplace(at,
                         MirrorWait{std::move(done), std::move(result), clock.now() + kMirrorWait});
  }

  void settle_waits() {
    const auto now = clock.now();
    for (auto it = mirror_waits.begin(); it != mirror_waits.end();) {
      if (it->first > revision && it->second.deadline > now) {
        ++it;
        continue;
      }
      MirrorWait wait = std::move(it->second);
      it = mirror_waits.erase(it);
      wait.done(std::move(wait.result), std::nullopt);
    }
  }

  /// The request op of a command inside a transaction.
  json::object op_of(const KvCommand& command) const {
    if (const auto* put = std::get_if<store::KvPut>(&command)) {
      return json::object{{"request_put", json::object{{"key", b64(put->key)},
                                                       {"value", base64_encode(put->value)}}}};
    }
    if (const auto* del = std::get_if<store::KvDelete>(&command)) {
      return json::object{{"request_delete_range", json::object{{"key", b64(del->key)}}}};
    }
    const auto& cas = std::get<store::KvCompareAndSet>(command);
    if (cas.value) {
      return json::object{{"request_put", json::object{{"key", b64(cas.key)},
                                                       {"value", base64_encode(*cas.value)}}}};
    }
    return json::object{{"request_delete_range", json::object{{"key", b64(cas.key)}}}};
  }

  /// The compare of a compare-and-set's expectation.
  json::object compare_of(const store::KvCompareAndSet& cas) const {
    if (cas.expected) {
      return json::object{{"key", b64(cas.key)},
                          {"target", "VALUE"},
                          {"result", "EQUAL"},
                          {"value", base64_encode(*cas.expected)}};
    }
    return json::object{
        {"key", b64(cas.key)}, {"target", "CREATE"}, {"result", "EQUAL"}, {"create_revision", "0"}};
  }

  /// The value the key holds after a command that applied.
  static std::optional<std::string> value_after(const KvCommand& command) {
    if (const auto* put = std::get_if<store::KvPut>(&command)) return put->value;
    if (std::holds_alternative<store::KvDelete>(command)) return std::nullopt;
    return std::get<store::KvCompareAndSet>(command).value;
  }

  /// Whether `command`, a delete (or a compare-and-set that deletes) whose
  /// transaction succeeded, found no key to delete.
  static bool deleted_nothing(const KvCommand& command, const json::object& answer) {
    const auto* cas = std::get_if<store::KvCompareAndSet>(&command);
    if (!std::holds_alternative<store::KvDelete>(command) && (cas == nullptr || cas->value))
      return false;
    const json::value* responses = answer.if_contains("responses");
    if (responses == nullptr || !responses->is_array() || responses->as_array().empty() ||
        !responses->as_array()[0].is_object())
      return false;
    const json::value* deleted =
        responses->as_array()[0].as_object().if_contains("response_delete_range");
    if (deleted == nullptr || !deleted->is_object()) return false;
    auto count = int_member(deleted->as_object(), "deleted");
    return count && *count == 0;
  }

  /// The kv of a failed transaction's range response `response` (nullopt:
  /// no such key).
  static Result<std::optional<KeyValue>> failed_kv(const json::object& answer,
                                                   std::size_t response) {
    const json::value* responses = answer.if_contains("responses");
    if (responses == nullptr || !responses->is_array() ||
        responses->as_array().size() <= response) {
      return fail("a transaction's answer without its responses");
    }
    const json::value& entry = responses->as_array()[response];
    const json::value* range =
        entry.is_object() ? entry.as_object().if_contains("response_range") : nullptr;
    if (range == nullptr || !range->is_object())
      return fail("a transaction's range response is missing");
    auto kvs = range_kvs(range->as_object());
    if (!kvs) return kvs.error();
    if (kvs->empty()) return std::optional<KeyValue>();
    return std::optional<KeyValue>(std::move(kvs->front()));
  }

  void submit(const KvCommand& command, bool system, bool as_decider,
              store::StoreCallback<KvResult> unguarded) {
    store::StoreCallback<KvResult> done = deadlines.guard(std::move(unguarded));
    if (auto valid = store::validate_command(command); !valid) {
      return done({}, StoreError{StoreErrorKind::invalid, valid.error().message});
    }
    if (!system && store::command_key(command).front() == store::kReservedKeyMark) {
      return done({}, StoreError{StoreErrorKind::invalid,
                                 "keys starting with '_' are reserved for the cluster"});
    }
    if (as_decider && !deciding_now()) {
      return done({}, StoreError{StoreErrorKind::not_leader, "this member is not the decider"});
    }
    const auto* cas = std::get_if<store::KvCompareAndSet>(&command);
    json::array compare;
    json::array failure;
    if (cas != nullptr) {
      compare.push_back(compare_of(*cas));
      failure.push_back(json::object{{"request_range", json::object{{"key", b64(cas->key)}}}});
    }
    if (as_decider) {
      // Fenced: only while the election key is still the one this member won.
      compare.push_back(json::object{{"key", b64(kElectionKey)},
                                     {"target", "CREATE"},
                                     {"result", "EQUAL"},
                                     {"create_revision", std::to_string(election_revision)}});
      failure.push_back(json::object{{"request_range", json::object{{"key", b64(kElectionKey)}}}});
    }
    json::object body{{"compare", std::move(compare)},
                      {"success", json::array{op_of(command)}},
                      {"failure", std::move(failure)}};
    const std::int64_t fence = election_revision;
    gateway->call("/v3/kv/txn", std::move(body),
                  [self = shared_from_this(), command, as_decider, fence, has_cas = cas != nullptr,
                   done = std::move(done)](Result<json::object> answer) mutable {
                    self->submitted(command, as_decider, fence, has_cas, std::move(answer),
                                    std::move(done));
                  });
  }

  void submitted(const KvCommand& command, bool as_decider, std::int64_t fence, bool has_cas,
                 Result<json::object> answer, store::StoreCallback<KvResult> done) {
    if (!answer) return done({}, unavailable("etcd: " + answer.error().message));
    if (auto error = gateway_error(*answer)) return done({}, refused(*answer, *error));
    auto at = header_revision(*answer);
    if (!at) return done({}, unavailable("etcd: " + at.error().message));
    const json::value* succeeded = answer->if_contains("succeeded");
    if (succeeded != nullptr && succeeded->is_bool() && succeeded->as_bool()) {
      // Nothing to wait for when a delete found nothing: no event comes,
      // and the answer's revision may be ahead of the mirror's for good
      // (a write under another prefix).
      if (deleted_nothing(command, *answer))
        return done(KvResult{true, std::nullopt}, std::nullopt);
      return answer_when_mirrored(*at, KvResult{true, value_after(command)}, std::move(done));
    }
    if (as_decider) {
      // Refused: either the election key is not the one this member won
      // (deposed, whatever it believed), or only the compare-and-set failed.
      auto election = failed_kv(*answer, has_cas ? 1 : 0);
      const bool still_ours = election && *election && (*election)->create_revision == fence;
      if (!still_ours) {
        if (fence == election_revision) lose_election("a fenced write was refused");
        return done({},
                    StoreError{StoreErrorKind::not_leader, "this member is no longer the decider"});
      }
    }
    auto current = failed_kv(*answer, 0);
    if (!current) return done({}, unavailable("etcd: " + current.error().message));
    std::optional<std::string> value;
    if (*current) value = std::move((*current)->value);
    done(KvResult{false, std::move(value)}, std::nullopt);
  }

  // ---- leases and the election -------------------------------------------------

  void renew(const std::string& holder) {
    if (lease_id == 0) {
      if (granting_lease) return;
      granting_lease = true;
      gateway->call(
          "/v3/lease/grant", json::object{{"TTL", std::to_string(seconds_up(settings.lease_ttl))}},
          [self = shared_from_this(), holder](Result<json::object> answer) {
            self->granting_lease = false;
            auto id = answer ? int_member(*answer, "ID") : Result<std::int64_t>(answer.error());
            if (!id || *id == 0) return;
            self->lease_id = *id;
            self->put_lease_record(holder);
          });
      return;
    }
    gateway->call("/v3/lease/keepalive", json::object{{"ID", std::to_string(lease_id)}},
                  [self = shared_from_this(), holder, id = lease_id](Result<json::object> answer) {
                    if (!answer)
                      return;  // unreachable: the lease may still live; try again next time
                    const json::value* result = answer->if_contains("result");
                    auto ttl = result != nullptr && result->is_object()
                                   ? int_member(result->as_object(), "TTL")
                                   : Result<std::int64_t>(std::int64_t{0});
                    if (!ttl || *ttl <= 0) {
                      if (self->lease_id == id)
                        self->lease_id = 0;  // expired: grant a new one next time
                      return;
                    }
                    self->put_lease_record(holder);
                  });
  }

  void put_lease_record(const std::string& holder) {
    store::KvPut renewal = leases.renewal(holder);
    gateway->call("/v3/kv/put",
                  json::object{{"key", b64(renewal.key)},
                               {"value", base64_encode(renewal.value)},
                               {"lease", std::to_string(lease_id)}},
                  [self = shared_from_this()](Result<json::object> answer) {
                    if (answer && gateway_error(*answer)) self->lease_id = 0;  // "lease not found"
                  });
  }

  bool deciding_now() const {
    return election_revision != 0 &&
           clock.now() - election_renewed < settings.election_ttl - settings.tick;
  }

  void lose_election(const std::string& why) {
    if (election_revision == 0) return;
    logger.info(kComponent, settings.name + " no longer decides (" + why + ")");
    election_revision = 0;
    publish_status();
  }

  /// A change of the election key seen by the mirror's loader or watch.
  void track_election(const KeyValue& kv, bool deleted) {
    if (kv.key != full(kElectionKey) || election_revision == 0) return;
    if (deleted || kv.create_revision != election_revision)
      lose_election("the election key changed hands");
  }

  void campaign() {
    if (election_lease == 0) {
      if (granting_election) return;
      granting_election = true;
      gateway->call("/v3/lease/grant",
                    json::object{{"TTL", std::to_string(seconds_up(settings.election_ttl))}},
                    [self = shared_from_this()](Result<json::object> answer) {
                      self->granting_election = false;
                      auto id =
                          answer ? int_member(*answer, "ID") : Result<std::int64_t>(answer.error());
                      if (id && *id != 0) {
                        self->election_lease = *id;
                        self->election_renewed = self->clock.now();
                        self->quorum_seen = self->election_renewed;
                        self->campaign();
                      }
                    });
      return;
    }
    const Clock::TimePoint asked = clock.now();
    gateway->call(
        "/v3/lease/keepalive", json::object{{"ID", std::to_string(election_lease)}},
        [self = shared_from_this(), asked, id = election_lease](Result<json::object> answer) {
          // Unreachable or no leader: the lease may live on; ask again next tick.
          if (!answer || gateway_error(*answer) || id != self->election_lease) return;
          const json::value* result = answer->if_contains("result");
          auto ttl = result != nullptr && result->is_object()
                         ? int_member(result->as_object(), "TTL")
                         : Result<std::int64_t>(std::int64_t{0});
          if (!ttl || *ttl <= 0) {
            self->election_lease = 0;
            self->lose_election("its election lease expired");
            return;
          }
          // The lease lives at least TTL from when we asked.
          self->election_renewed = asked;
          self->quorum_seen = asked;
          if (self->election_revision == 0) self->try_election();
        });
  }

  void try_election() {
    json::object body{
        {"compare", json::array{json::object{{"key", b64(kElectionKey)},
                                             {"target", "CREATE"},
                                             {"result", "EQUAL"},
                                             {"create_revision", "0"}}}},
        {"success", json::array{json::object{
                        {"request_put", json::object{{"key", b64(kElectionKey)},
                                                     {"value", base64_encode(settings.name)},
                                                     {"lease", std::to_string(election_lease)}}}}}},
        {"failure",
         json::array{json::object{{"request_range", json::object{{"key", b64(kElectionKey)}}}}}}};
    gateway->call(
        "/v3/kv/txn", std::move(body),
        [self = shared_from_this(), lease = election_lease](Result<json::object> answer) {
          if (!answer || gateway_error(*answer) || lease != self->election_lease) return;
          const json::value* succeeded = answer->if_contains("succeeded");
          auto at = header_revision(*answer);
          if (succeeded != nullptr && succeeded->is_bool() && succeeded->as_bool() && at) {
            self->election_revision = *at;  // the key's create_revision
            self->logger.info(kComponent, self->settings.name + " decides (revision " +
                                              std::to_string(*at) + ")");
            self->publish_status();
            return;
          }
          // Held already: by this member under this lease (after a lost answer)?
          const json::value* responses = answer->if_contains("responses");
          if (responses == nullptr || !responses->is_array() || responses->as_array().empty())
            return;
          const json::value* range =
              responses->as_array()[0].as_object().if_contains("response_range");
          if (range == nullptr || !range->is_object()) return;
          auto kvs = range_kvs(range->as_object());
          if (kvs && !kvs->empty() && kvs->front().value == self->settings.name &&
              kvs->front().lease == lease) {
            self->election_revision = kvs->front().create_revision;
            self->publish_status();
          }
        });
  }

  // ---- status ----------------------------------------------------------------

  void on_tick() {
    if (stopping) return;
    ++ticks;
    campaign();
    ask_status();
    check_watch();
    settle_waits();
    // Every tick, not only when a status call answers: one that hangs on an
    // unresponsive member must not keep is_decider() or the leader as they
    // were after the election lease or unreachable_after ran out.
    publish_status();
    tick_timer.expires_after(settings.tick);
    tick_timer.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (!error) self->on_tick();
    });
  }

  void ask_status() {
    gateway->call("/v3/maintenance/status", json::object{},
                  [self = shared_from_this()](Result<json::object> answer) {
                    if (!answer || gateway_error(*answer)) {
                      self->publish_status();
                      return;
                    }
                    // Member IDs use all 64 bits: read as unsigned.
                    const auto number = [&](std::string_view name) {
                      auto value = uint_member(*answer, name);
                      return value ? *value : 0;
                    };
                    self->etcd_leader = number("leader");
                    self->etcd_term = number("raftTerm");
                    self->etcd_index = number("raftIndex");
                    self->etcd_applied = number("raftAppliedIndex");
                    auto at = header_revision(*answer);
                    if (at) self->etcd_revision = static_cast<std::uint64_t>(*at);
                    // The member the watch reads from answers and has a
                    // leader: a quiet watch is quiet because nothing changed.
                    if (self->etcd_leader != 0 && self->watch_stream &&
                        self->watch_stream->endpoint() == self->gateway->current()) {
                      self->watch_heard = self->clock.now();
                    }
                    self->publish_status();
                  });
    if (ticks % kMembersEvery != 1) return;
    // Every endpoint's health, not only the one calls go to (the status
    // shows which members this node reaches).
    for (std::size_t i = 0; i < settings.gateway.endpoints.size(); ++i) {
      gateway->call_at(
          i, "/v3/maintenance/status", json::object{},
          [self = shared_from_this()](const Result<json::object>&) { self->publish_status(); });
    }
    gateway->call("/v3/cluster/member/list", json::object{},
                  [self = shared_from_this()](Result<json::object> answer) {
                    if (!answer || gateway_error(*answer)) return;
                    const json::value* list = answer->if_contains("members");
                    if (list == nullptr || !list->is_array()) return;
                    std::vector<store::MemberStatus> members;
                    for (const json::value& entry : list->as_array()) {
                      if (!entry.is_object()) continue;
                      const json::object& member = entry.as_object();
                      store::MemberStatus out;
                      auto id = uint_member(member, "ID");
                      out.id = id ? *id : 0;
                      if (const json::value* name = member.if_contains("name");
                          name != nullptr && name->is_string()) {
                        out.name = std::string(name->as_string());
                      }
                      out.voter =
                          !(member.if_contains("isLearner") && member.at("isLearner").is_bool() &&
                            member.at("isLearner").as_bool());
                      if (const json::value* urls = member.if_contains("clientURLs");
                          urls != nullptr && urls->is_array() && !urls->as_array().empty() &&
                          urls->as_array()[0].is_string()) {
                        std::string url(urls->as_array()[0].as_string());
                        if (const auto scheme = url.find("://"); scheme != std::string::npos)
                          url.erase(0, scheme + 3);
                        SocketAddress address;
                        if (SocketAddress::parse(url, address)) out.address = address;
                      }
                      members.push_back(std::move(out));
                    }
                    self->etcd_members = std::move(members);
                    self->publish_status();
                  });
  }

  void publish_status() {
    store::StoreStatus status;
    status.name = settings.name;
    status.backend = "etcd";
    // A member answering status calls is not enough: one cut off from the
    // others still answers them. Quorum is what a lease renewal shows.
    const bool reachable = clock.now() - quorum_seen < settings.unreachable_after;
    status.role = deciding_now() ? store::Role::leader : store::Role::follower;
    status.term = etcd_term;
    status.commit = etcd_index;
    status.applied = etcd_applied;
    status.revision = etcd_revision;
    status.leader_id = reachable ? etcd_leader : 0;
    const auto health = gateway->health();
    for (store::MemberStatus member : etcd_members) {
      member.reported = true;
      member.role = member.id == etcd_leader ? store::Role::leader : store::Role::follower;
      if (member.id == etcd_leader && reachable)
        status.leader = member.name.empty() ? "etcd" : member.name;
      if (member.address) {
        for (const EndpointHealth& endpoint : health) {
          if (endpoint.address == *member.address) member.reachable = endpoint.reachable;
        }
      }
      status.members.push_back(std::move(member));
    }
    // Endpoints of the config that the member list does not show (not
    // fetched yet, or not a member any more) are listed by address.
    for (const EndpointHealth& endpoint : health) {
      const bool listed = std::any_of(
          status.members.begin(), status.members.end(),
          [&](const store::MemberStatus& member) { return member.address == endpoint.address; });
      if (listed) continue;
      store::MemberStatus member;
      member.name = endpoint.address.to_string();
      member.address = endpoint.address;
      member.reachable = endpoint.reachable;
      status.members.push_back(std::move(member));
    }
    std::sort(
        status.members.begin(), status.members.end(),
        [](const store::MemberStatus& a, const store::MemberStatus& b) { return a.name < b.name; });
    if (status.leader.empty() && reachable && etcd_leader != 0) status.leader = "etcd";
    std::lock_guard lock(status_mutex);
    published = std::move(status);
    published_deciding = deciding_now();
  }

  // ---- state -----------------------------------------------------------------

  EtcdStoreSettings settings;
  Logger& logger;
  const Clock& clock;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  RequestDeadlines deadlines;
  std::thread thread;
  std::mutex lifecycle_mutex;
  std::atomic<bool> stopping = false;  // written under lifecycle_mutex, read on the store thread
  std::shared_ptr<Gateway> gateway;
  asio::steady_timer tick_timer;
  std::uint64_t ticks = 0;
  std::chrono::milliseconds backoff = kBackoffMin;

  std::unique_ptr<store::KvState> mirror;  // seam keys; indices are mirror_index
  std::uint64_t mirror_index = 0;
  std::int64_t revision = 0;  // etcd's revision the mirror shows
  bool mirror_loaded = false;
  std::promise<void> first_load;  // set once the mirror first shows etcd's state
  std::shared_ptr<Gateway::Stream> watch_stream;
  std::uint64_t watch_generation = 0;
  Clock::TimePoint watch_heard{};                        // the watch's member's last sign of life
  std::multimap<std::int64_t, MirrorWait> mirror_waits;  // by revision

  store::LeaseBook leases;
  std::int64_t lease_id = 0;
  bool granting_lease = false;
  std::int64_t election_lease = 0;
  bool granting_election = false;
  std::int64_t election_revision =
      0;  // the election key's create_revision while this member decides
  Clock::TimePoint election_renewed{};

  std::uint64_t etcd_leader = 0, etcd_term = 0, etcd_index = 0, etcd_applied = 0, etcd_revision = 0;
  std::vector<store::MemberStatus> etcd_members;
  Clock::TimePoint quorum_seen{};  // when etcd last renewed a lease (its leader answered)

  mutable std::mutex status_mutex;
  store::StoreStatus published;
  bool published_deciding = false;
};

// ---- the public side ----------------------------------------------------------

Result<std::unique_ptr<EtcdStore>> EtcdStore::start(EtcdStoreSettings settings, Logger& logger,
                                                    const Clock& clock) {
  if (settings.name.empty()) return fail("etcd store: no member name");
  if (settings.prefix.empty()) return fail("etcd store: an empty key prefix");
  if (settings.election_ttl <= settings.tick)
    return fail("etcd store: the election lease must outlast a tick");
  auto impl = std::make_shared<Impl>(std::move(settings), logger, clock);
  auto gateway = Gateway::create(impl->io, impl->settings.gateway, logger);
  if (!gateway) return gateway.error();
  impl->gateway = std::move(*gateway);
  auto watched = impl->mirror->watch(
      std::string(store::kLeasePrefix),
      [leases = &impl->leases](const std::string& key, const std::optional<std::string>& value,
                               std::uint64_t) { leases->on_change(key, value); });
  if (!watched) return watched.error();
  impl->publish_status();
  // Like a Raft member reading its disk, the store starts with the state:
  // a node's first answers follow it. An etcd that cannot be reached in
  // time leaves the store starting cut off, loading in the background.
  auto loaded = impl->first_load.get_future();
  impl->run();
  if (loaded.wait_for(impl->settings.request_timeout) != std::future_status::ready) {
    logger.warn(kComponent, "etcd did not answer within " +
                                std::to_string(impl->settings.request_timeout.count()) +
                                " ms: starting without its state, loading it in the background");
  }
  return std::unique_ptr<EtcdStore>(new EtcdStore(std::move(impl)));
}

EtcdStore::EtcdStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

EtcdStore::~EtcdStore() {
  // stop() waits on futures and joins a thread, which report failures by
  // throwing; a destructor must not pass that on.
  try {
    stop();
  } catch (const std::exception& e) {
    impl_->logger.error(kComponent, std::string("stopping failed: ") + e.what());
  }
}

void EtcdStore::stop() {
  if (impl_) impl_->shutdown();
}

void EtcdStore::write(KvCommand command, store::StoreCallback<KvResult> done) {
  if (!impl_->post([impl = impl_.get(), command = std::move(command), done]() mutable {
        impl->submit(command, false, false, std::move(done));
      })) {
    done({}, unavailable("the store is stopping"));
  }
}

void EtcdStore::write_system(KvCommand command, store::StoreCallback<KvResult> done) {
  if (!impl_->post([impl = impl_.get(), command = std::move(command), done]() mutable {
        impl->submit(command, true, false, std::move(done));
      })) {
    done({}, unavailable("the store is stopping"));
  }
}

void EtcdStore::write_as_decider(KvCommand command, store::StoreCallback<KvResult> done) {
  if (!impl_->post([impl = impl_.get(), command = std::move(command), done]() mutable {
        impl->submit(command, true, true, std::move(done));
      })) {
    done({}, unavailable("the store is stopping"));
  }
}

void EtcdStore::read(std::string key, store::ReadMode mode,
                     store::StoreCallback<std::optional<std::string>> done) {
  const bool posted = impl_->post([impl = impl_.get(), key = std::move(key), mode, done]() {
    if (mode == store::ReadMode::local) return done(impl->mirror->get(key), std::nullopt);
    impl->gateway->call("/v3/kv/range", json::object{{"key", impl->b64(key)}},
                        [done = impl->deadlines.guard(done)](const Result<json::object>& answer) {
                          RangeAnswer range = range_answer(answer);
                          if (range.error) return done(std::nullopt, std::move(range.error));
                          if (range.kvs.empty()) return done(std::nullopt, std::nullopt);
                          done(std::move(range.kvs.front().value), std::nullopt);
                        });
  });
  if (!posted) done(std::nullopt, unavailable("the store is stopping"));
}

void EtcdStore::scan(std::string prefix, std::size_t limit, store::ReadMode mode,
                     store::StoreCallback<store::KeyValues> done) {
  const bool posted =
      impl_->post([impl = impl_.get(), prefix = std::move(prefix), limit, mode, done]() {
        if (mode == store::ReadMode::local)
          return done(impl->mirror->scan(prefix, limit), std::nullopt);
        // etcd reads a limit of 0 as "no limit", and refuses one past int64.
        if (limit == 0) return done({}, std::nullopt);
        json::object body = impl->range_of(prefix);
        body["limit"] = std::to_string(std::min<std::size_t>(limit, INT64_MAX));
        impl->gateway->call(
            "/v3/kv/range", std::move(body),
            [impl, done = impl->deadlines.guard(done)](const Result<json::object>& answer) {
              RangeAnswer range = range_answer(answer);
              if (range.error) return done({}, std::move(range.error));
              store::KeyValues pairs;
              for (KeyValue& kv : range.kvs) {
                if (auto key = impl->seam_key(kv.key))
                  pairs.emplace_back(std::move(*key), std::move(kv.value));
              }
              done(std::move(pairs), std::nullopt);
            });
      });
  if (!posted) done({}, unavailable("the store is stopping"));
}

Result<store::WatchId> EtcdStore::watch(std::string prefix, store::WatchCallback callback) {
  MERIDIAN_ASSERT(std::this_thread::get_id() != impl_->thread.get_id(),
                  "watch() called on the store thread");
  auto promise = std::make_shared<std::promise<Result<store::WatchId>>>();
  auto future = promise->get_future();
  const bool posted = impl_->post([promise, impl = impl_.get(), prefix = std::move(prefix),
                                   callback = std::move(callback)]() mutable {
    promise->set_value(impl->mirror->watch(std::move(prefix), std::move(callback)));
  });
  if (!posted) return fail("the store is stopping");
  try {
    return future.get();
  } catch (const std::future_error&) {  // stopped before the task ran
    return fail("the store is stopping");
  }
}

void EtcdStore::unwatch(store::WatchId id) {
  impl_->post([impl = impl_.get(), id] { impl->mirror->unwatch(id); });
}

void EtcdStore::renew_lease(const std::string& holder) {
  impl_->post([impl = impl_.get(), holder] { impl->renew(holder); });
}

store::LeaseRenewals EtcdStore::lease_renewals() const {
  return impl_->leases.renewals();
}

bool EtcdStore::is_decider() const {
  std::lock_guard lock(impl_->status_mutex);
  // The published flag is refreshed every tick; the lease's age decides too.
  return impl_->published_deciding;
}

store::StoreStatus EtcdStore::status() const {
  std::lock_guard lock(impl_->status_mutex);
  return impl_->published;
}

}  // namespace meridian::etcd
