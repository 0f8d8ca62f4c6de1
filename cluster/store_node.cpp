#include "cluster/store_node.hpp"

#include <future>
#include <thread>

#include "base/assert.hpp"
#include "cluster/node_id.hpp"
#include "cluster/store_node_impl.hpp"

namespace meridian::cluster {

// ---- start and stop --------------------------------------------------------

StoreNode::StoreNode(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

StoreNode::~StoreNode() { stop(); }

Result<std::unique_ptr<StoreNode>> StoreNode::start(StoreNodeSettings settings, Logger& logger) {
  if (auto valid = validate_node_name(settings.name); !valid) return valid.error();
  for (const std::string& founder : settings.founders) {
    if (auto valid = validate_node_name(founder); !valid) return valid.error();
  }
  for (const PeerAddress& peer : settings.peers) {
    if (auto valid = validate_node_name(peer.name); !valid) return valid.error();
  }
  auto impl = std::make_shared<Impl>(std::move(settings), logger);
  if (auto opened = impl->open(); !opened) return opened.error();
  impl->run();
  return std::unique_ptr<StoreNode>(new StoreNode(std::move(impl)));
}

void StoreNode::stop() {
  if (impl_) impl_->shutdown();
}

SocketAddress StoreNode::bound() const { return impl_->bound_; }

void ProposalLatency::record(std::chrono::duration<double> took) noexcept {
  const double seconds = took.count();
  std::size_t bucket = 0;
  while (bucket < kProposalLatencyBounds.size() && seconds > kProposalLatencyBounds[bucket]) ++bucket;
  ++counts[bucket];
  sum_s += seconds;
}

StoreStatus StoreNode::status() const {
  std::lock_guard lock(impl_->status_mutex_);
  return impl_->published_;
}

// ---- requests: posted to the store thread -----------------------------------

void StoreNode::write(store::KvCommand command, StoreCallback<store::KvResult> done) {
  impl_->post([impl = impl_.get(), command = std::move(command), done = std::move(done)]() mutable {
    impl->propose_command(std::move(command), false, true, std::move(done));
  });
}

void StoreNode::write_system(store::KvCommand command, StoreCallback<store::KvResult> done) {
  impl_->post([impl = impl_.get(), command = std::move(command), done = std::move(done)]() mutable {
    impl->propose_command(std::move(command), true, true, std::move(done));
  });
}

void StoreNode::read(std::string key, ReadMode mode, StoreCallback<std::optional<std::string>> done) {
  impl_->post([impl = impl_.get(), key = std::move(key), mode, done = std::move(done)]() mutable {
    impl->when_readable(mode, [impl, key = std::move(key), done](std::optional<StoreError> error) {
      if (error) return done(std::nullopt, std::move(error));
      done(impl->kv_->get(key), std::nullopt);
    });
  });
}

void StoreNode::scan(std::string prefix, std::size_t limit, ReadMode mode,
                     StoreCallback<std::vector<std::pair<std::string, std::string>>> done) {
  impl_->post([impl = impl_.get(), prefix = std::move(prefix), limit, mode, done = std::move(done)]() mutable {
    impl->when_readable(mode, [impl, prefix = std::move(prefix), limit, done](std::optional<StoreError> error) {
      if (error) return done({}, std::move(error));
      done(impl->kv_->scan(prefix, limit), std::nullopt);
    });
  });
}

void StoreNode::add_learner(std::string name, SocketAddress address, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), address, done = std::move(done)]() mutable {
    impl->add_learner(std::move(name), address, std::move(done));
  });
}

void StoreNode::promote(std::string name, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), done = std::move(done)]() mutable {
    impl->change_membership(ChangeKind::promote_learner, std::move(name), std::move(done));
  });
}

void StoreNode::remove(std::string name, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), done = std::move(done)]() mutable {
    impl->change_membership(ChangeKind::remove, std::move(name), std::move(done));
  });
}

void StoreNode::transfer_leadership(std::string name, StoreCallback<bool> done) {
  impl_->post([impl = impl_.get(), name = std::move(name), done = std::move(done)]() mutable {
    impl->transfer_leadership(std::move(name), std::move(done));
  });
}

Result<store::WatchId> StoreNode::watch(std::string prefix, store::WatchCallback callback) {
  MERIDIAN_ASSERT(std::this_thread::get_id() != impl_->thread_.get_id(), "watch() called on the store thread");
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

}  // namespace meridian::cluster
