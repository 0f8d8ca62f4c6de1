#pragma once
// Makes one node of a cluster serve the committed config version
// (docs/configuration.md; records in gslb/config_versions.hpp). The node's
// effective config is its own file's node-local sections plus the shared
// sections of the version _config/current names (config/config.hpp
// parse_config_parts).
//
// - At start, the version the store already holds (from disk after a
//   restart) is served before start() returns, so a restarted node's first
//   answers follow it; a node whose file's shared sections differ says so
//   ("config: this node's file differs from committed version N").
// - Whenever _config/current changes, the new version is parsed with the
//   node-local sections and handed to the switch (the same drop-free swap
//   as SIGHUP). A version that does not load on this node (a file it names
//   is missing here, the node's site is gone) is logged and reported in
//   status(); the node keeps serving what it served.
// - SIGHUP (reload_file): the node-local sections are read again from the
//   file; the committed shared sections stay. Before any version is
//   committed, the whole file reloads as in a single node.
//
// Thread rule: lives on the caller's io_context (the node's health thread),
// where store callbacks are posted and the switch is called. status() and
// validate() may be called from any thread; start() from a thread that is
// neither the store's nor the io's (it waits for both).

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/log.hpp"
#include "base/result.hpp"
#include "config/config.hpp"
#include "gslb/config_status.hpp"
#include "store/replicated_store.hpp"

namespace meridian::gslb {

class ConfigFollower : public std::enable_shared_from_this<ConfigFollower> {
 public:
  /// Builds what `config` needs and switches the node to it (on the io
  /// thread); an error leaves the node serving what it served.
  using Switch = std::function<Result<void>(std::shared_ptr<const Config> config)>;

  /// `config_path` is the node's file (already loaded and served by the
  /// caller). `store`, `io` and `logger` must outlive the follower.
  static std::shared_ptr<ConfigFollower> create(boost::asio::io_context& io,
                                                store::ReplicatedStore& store,
                                                std::string config_path, Logger& logger,
                                                Switch switch_to);

  /// Reads the node's file, watches _config/current, and serves the
  /// version the store holds before returning. Errors: the file cannot be
  /// read; the version was not read and loaded within 60 s.
  Result<void> start();
  /// Ignores everything that arrives afterwards. Any thread.
  void stop();

  /// SIGHUP: reloads the file (see above) on the io thread. Any thread.
  void reload_file();

  /// Which version this node serves, and whether its file agrees.
  ConfigNodeStatus status() const;

  /// Validates `text` as the shared sections of this node's config (with
  /// the node-local sections of its file as last read); errors start with
  /// `name`. Any thread; parses now.
  Result<ValidatedConfig> validate(const std::string& text, const std::string& name) const;

  ConfigFollower(boost::asio::io_context& io, store::ReplicatedStore& store,
                 std::string config_path, Logger& logger,
                 Switch switch_to);  // use create()

 private:
  void on_current(const std::optional<std::string>& value);
  void on_record(std::uint64_t number, const std::optional<std::string>& value);
  void maybe_started();
  std::string base_dir() const;

  boost::asio::io_context& io_;
  store::ReplicatedStore& store_;
  const std::string path_;
  Logger& logger_;
  Switch switch_;
  std::atomic<bool> stopped_{false};

  // Io thread only.
  std::uint64_t requested_ = 0;  // the newest version whose record was asked for
  int in_flight_ = 0;            // record reads not answered yet
  std::string committed_text_;   // the newest committed version's text (loaded or not)
  std::shared_ptr<std::promise<void>> starting_;  // until the first version is served
  bool initial_read_done_ = false;

  // Written on the io thread (and by start()), read anywhere.
  mutable std::mutex mutex_;
  std::string file_text_;
  ConfigNodeStatus status_;
};

}  // namespace meridian::gslb
