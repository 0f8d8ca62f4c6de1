#include "cluster/raft_member.hpp"

#include <future>
#include <thread>

#include "base/assert.hpp"
#include "cluster/node_id.hpp"
#include "cluster/raft_member_state.hpp"

namespace meridian::cluster {

// ---- start and stop --------------------------------------------------------

RaftMember::RaftMember(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

RaftMember::~RaftMember() {
  stop();
}

Result<std::unique_ptr<RaftMember>> RaftMember::start(RaftMemberSettings settings, Logger& logger,
                                                      const Clock& clock) {
  if (auto valid = validate_node_name(settings.name); !valid) return valid.error();
  for (const std::string& founder : settings.founders) {
    if (auto valid = validate_node_name(founder); !valid) return valid.error();
  }
  for (const PeerAddress& peer : settings.peers) {
    if (auto valid = validate_node_name(peer.name); !valid) return valid.error();
  }
  auto impl = std::make_shared<Impl>(std::move(settings), logger, clock);
  if (auto opened = impl->open(); !opened) return opened.error();
  impl->run();
  return std::unique_ptr<RaftMember>(new RaftMember(std::move(impl)));
}

void RaftMember::stop() {
  if (impl_) impl_->shutdown();
}

SocketAddress RaftMember::bound() const {
  return impl_->bound_;
}

StoreStatus RaftMember::status() const {
  std::lock_guard lock(impl_->status_mutex_);
  return impl_->published_;
}

bool RaftMember::is_decider() const {
  std::lock_guard lock(impl_->status_mutex_);
  return impl_->published_.role == Role::leader;
}

store::LeaseRenewals RaftMember::lease_renewals() const {
  return impl_->leases_.renewals();
}

void RaftMember::renew_lease(const std::string& holder) {
  write_system(impl_->leases_.renewal(holder),
               [](const store::KvResult&, const std::optional<StoreError>&) {});
}

// ---- requests: posted to the store thread -----------------------------------

void RaftMember::write(store::KvCommand command, StoreCallback<store::KvResult> done) {
  impl_->post([impl = impl_.get(), command = std::move(command), done = std::move(done)]() mutable {
    impl->propose_command(command, false, true, std::move(done));
  });
}

void RaftMember::write_system(store::KvCommand command, StoreCallback<store::KvResult> done) {
  impl_->post([impl = impl_.get(), command = std::move(command), done = std::move(done)]() mutable {
    impl->propose_command(command, true, true, std::move(done));
  });
}

void RaftMember::write_as_decider(store::KvCommand command, StoreCallback<store::KvResult> done) {
  // Proposed here or nowhere: an entry of a leader that lost its term never
  // commits, so a deposed decider's write is refused, not forwarded.
  impl_->post([impl = impl_.get(), command = std::move(command), done = std::move(done)]() mutable {
    impl->propose_command(command, true, false, std::move(done));
  });
}

void RaftMember::read(std::string key, ReadMode mode,
                      StoreCallback<std::optional<std::string>> done) {
  impl_->post([impl = impl_.get(), key = std::move(key), mode, done = std::move(done)]() mutable {
    impl->when_readable(mode, [impl, key = std::move(key), done](std::optional<StoreError> error) {
      if (error) return done(std::nullopt, std::move(error));
      done(impl->kv_->get(key), std::nullopt);
    });
  });
}

void RaftMember::scan(std::string prefix, std::size_t limit, ReadMode mode,
                      StoreCallback<store::KeyValues> done) {
  impl_->post([impl = impl_.get(), prefix = std::move(prefix), limit, mode,
               done = std::move(done)]() mutable {
    impl->when_readable(
        mode, [impl, prefix = std::move(prefix), limit, done](std::optional<StoreError> error) {
          if (error) return done({}, std::move(error));
          done(impl->kv_->scan(prefix, limit), std::nullopt);
        });
  });
}

void RaftMember::add_learner(std::string name, SocketAddress address, StoreCallback<bool> done) {
  impl_->post(
      [impl = impl_.get(), name = std::move(name), address, done = std::move(done)]() mutable {
        impl->add_learner(name, address, std::move(done));
      });
}

void RaftMember::promote(std::string name, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), done = std::move(done)]() mutable {
    impl->change_membership(ChangeKind::promote_learner, name, std::move(done));
  });
}

void RaftMember::remove(std::string name, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), done = std::move(done)]() mutable {
    impl->remove_member(name, std::move(done));
  });
}

void RaftMember::transfer_leadership(std::string name, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), done = std::move(done)]() mutable {
    impl->transfer_leadership(name, std::move(done));
  });
}

Result<store::WatchId> RaftMember::watch(std::string prefix, store::WatchCallback callback) {
  MERIDIAN_ASSERT(std::this_thread::get_id() != impl_->thread_.get_id(),
                  "watch() called on the store thread");
  auto promise = std::make_shared<std::promise<Result<store::WatchId>>>();
  auto future = promise->get_future();
  const bool posted = impl_->post([promise, impl = impl_.get(), prefix = std::move(prefix),
                                   callback = std::move(callback)]() mutable {
    promise->set_value(impl->kv_->watch(std::move(prefix), std::move(callback)));
  });
  if (!posted) return fail("the store is stopping");
  try {
    return future.get();
  } catch (const std::future_error&) {  // stopped before the task ran
    return fail("the store is stopping");
  }
}

Result<void> RaftMember::reload_credentials(std::string cert_pem, std::string key_pem) {
  MERIDIAN_ASSERT(std::this_thread::get_id() != impl_->thread_.get_id(),
                  "reload_credentials() called on the store thread");
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto future = promise->get_future();
  const bool posted = impl_->post(
      [promise, impl = impl_.get(), cert_pem = std::move(cert_pem), key_pem = std::move(key_pem)] {
        promise->set_value(impl->transport_->reload_credentials(cert_pem, key_pem));
      });
  if (!posted) return fail("the store is stopping");
  try {
    return future.get();
  } catch (const std::future_error&) {
    return fail("the store is stopping");
  }
}

void RaftMember::unwatch(store::WatchId id) {
  impl_->post([impl = impl_.get(), id] { impl->kv_->unwatch(id); });
}

}  // namespace meridian::cluster
