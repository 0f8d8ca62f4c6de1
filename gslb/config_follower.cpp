#include "gslb/config_follower.hpp"

#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>

#include "gslb/config_versions.hpp"

namespace meridian::gslb {

namespace asio = boost::asio;

namespace {

constexpr std::string_view kComponent = "config";

std::string version_name(std::uint64_t number) {
  return "<version " + std::to_string(number) + ">";
}

}  // namespace

std::shared_ptr<ConfigFollower> ConfigFollower::create(asio::io_context& io,
                                                       store::ReplicatedStore& store,
                                                       std::string config_path, Logger& logger,
                                                       Switch switch_to) {
  return std::make_shared<ConfigFollower>(io, store, std::move(config_path), logger,
                                          std::move(switch_to));
}

ConfigFollower::ConfigFollower(asio::io_context& io, store::ReplicatedStore& store,
                               std::string config_path, Logger& logger, Switch switch_to)
    : io_(io),
      store_(store),
      path_(std::move(config_path)),
      logger_(logger),
      switch_(std::move(switch_to)) {}

std::string ConfigFollower::base_dir() const {
  return std::filesystem::path(path_).parent_path().string();
}

Result<void> ConfigFollower::start() {
  auto text = read_config_file(path_);
  if (!text) return text.error();
  auto fingerprint = shared_fingerprint(*text);
  if (!fingerprint) return fail(path_, ": ", fingerprint.error().message);
  {
    std::lock_guard lock(mutex_);
    file_text_ = std::move(*text);
    status_.file = path_;
    status_.file_fingerprint = *fingerprint;
    status_.fingerprint = *fingerprint;  // the caller serves the file until a version arrives
  }
  auto started = std::make_shared<std::promise<void>>();
  auto done = started->get_future();
  asio::post(io_, [self = shared_from_this(), started] { self->starting_ = started; });

  std::weak_ptr<ConfigFollower> weak = weak_from_this();
  // Runs on the store thread: hand the change to the io thread.
  auto watched =
      store_.watch(std::string(gslb::kConfigCurrentKey),
                   [weak, &io = io_](const std::string&, const std::optional<std::string>& value,
                                     std::uint64_t) {
                     asio::post(io, [weak, value] {
                       if (auto self = weak.lock(); self && !self->stopped_)
                         self->on_current(value);
                     });
                   });
  if (!watched) return watched.error();
  // What the store holds already (the watch sees only later changes).
  store_.read(std::string(gslb::kConfigCurrentKey), store::ReadMode::local,
              [weak, &io = io_](const std::optional<std::string>& value,
                                const std::optional<store::StoreError>&) {
                asio::post(io, [weak, value] {
                  auto self = weak.lock();
                  if (!self || self->stopped_) return;
                  if (value) self->on_current(value);
                  self->initial_read_done_ = true;
                  self->maybe_started();
                });
              });
  // Bounded: a store that cannot answer a local read is stopping (the
  // bound leaves time to load a large config and its zone files).
  if (done.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
    return fail("the committed config version was not read and loaded within 60 s");
  }
  return {};
}

void ConfigFollower::stop() {
  stopped_ = true;
}

void ConfigFollower::maybe_started() {
  if (!starting_ || !initial_read_done_ || in_flight_ > 0) return;
  // Posted, so that a switch spawned on this thread has run first.
  asio::post(io_, [started = std::move(starting_)] { started->set_value(); });
  starting_.reset();
}

void ConfigFollower::on_current(const std::optional<std::string>& value) {
  if (!value) {
    logger_.warn(kComponent,
                 "the committed config version was removed; still serving what this node serves");
    return;
  }
  const auto number = gslb::decode_config_number(*value);
  if (!number) {
    logger_.warn(kComponent,
                 "ignoring a malformed committed config version '" + value->substr(0, 40) + "'");
    return;
  }
  // The watch and the initial read may both report it.
  if (*number <= requested_) return;
  requested_ = *number;
  ++in_flight_;
  std::weak_ptr<ConfigFollower> weak = weak_from_this();
  // The record was applied before the pointer moved to it, so the local
  // state has it.
  store_.read(gslb::config_version_key(*number), store::ReadMode::local,
              [weak, number = *number, &io = io_](std::optional<std::string> record,
                                                  const std::optional<store::StoreError>&) {
                asio::post(io, [weak, number, record = std::move(record)] {
                  auto self = weak.lock();
                  if (!self || self->stopped_) return;
                  --self->in_flight_;
                  self->on_record(number, record);
                  self->maybe_started();
                });
              });
}

void ConfigFollower::on_record(std::uint64_t number, const std::optional<std::string>& value) {
  if (number < requested_) return;  // a newer version is on its way
  const bool at_start = starting_ != nullptr;
  auto report = [&](const std::string& why) {
    std::lock_guard lock(mutex_);
    status_.committed = number;
    status_.error = why;
    return why;
  };
  if (!value) {
    logger_.error(kComponent, report("committed version " + std::to_string(number) +
                                     " has no record on this node"));
    return;
  }
  auto version = gslb::decode_config_version(*value);
  if (!version) {
    logger_.error(kComponent, report(version.error().message));
    return;
  }
  committed_text_ = version->text;
  std::string file_text;
  std::string file_fingerprint;
  {
    std::lock_guard lock(mutex_);
    status_.committed = number;
    status_.committed_fingerprint = version->fingerprint;
    file_text = file_text_;
    file_fingerprint = status_.file_fingerprint;
  }
  if (file_fingerprint != version->fingerprint) {
    const std::string differs = "this node's file differs from committed version " +
                                std::to_string(number) + " (file " + file_fingerprint +
                                ", committed " + version->fingerprint + ")";
    // At start this is news for the operator; after an apply it is expected
    // until the files are updated.
    at_start ? logger_.warn(kComponent, differs) : logger_.info(kComponent, differs);
  }
  auto config = parse_config_parts(ConfigText{file_text, path_},
                                   ConfigText{version->text, version_name(number)}, base_dir());
  Result<void> switched = config
                              ? switch_(std::make_shared<const Config>(std::move(config).value()))
                              : Result<void>(config.error());
  std::lock_guard lock(mutex_);
  if (!switched) {
    status_.error = "committed version " + std::to_string(number) +
                    " does not load on this node:\n" + switched.error().message;
    logger_.error(kComponent, status_.error + "\nstill serving " +
                                  (status_.serving ? "version " + std::to_string(*status_.serving)
                                                   : "this node's file"));
    return;
  }
  status_.error.clear();
  status_.serving = number;
  status_.fingerprint = version->fingerprint;
  logger_.info(kComponent, "serving committed version " + std::to_string(number) + " (" +
                               version->fingerprint +
                               (version->author.empty() ? "" : ", by " + version->author) +
                               (version->comment.empty() ? "" : ": " + version->comment) + ")");
}

void ConfigFollower::reload_file() {
  asio::post(io_, [self = shared_from_this()] {
    if (self->stopped_) return;
    auto text = read_config_file(self->path_);
    auto fingerprint = text ? shared_fingerprint(*text) : Result<std::string>(text.error());
    if (!fingerprint) {
      self->logger_.error(kComponent, "reload failed, still serving the previous config:\n" +
                                          fingerprint.error().message);
      return;
    }
    std::optional<std::uint64_t> committed;
    {
      std::lock_guard lock(self->mutex_);
      committed = self->status_.committed;
    }
    // With a committed version, only the node-local sections come from the
    // file; before one, the file is the whole config.
    auto config =
        committed ? parse_config_parts(ConfigText{*text, self->path_},
                                       ConfigText{self->committed_text_, version_name(*committed)},
                                       self->base_dir())
                  : parse_config(*text, self->path_, self->base_dir());
    Result<void> switched =
        config ? self->switch_(std::make_shared<const Config>(std::move(config).value()))
               : Result<void>(config.error());
    if (!switched) {
      self->logger_.error(kComponent, "reload failed, still serving the previous config:\n" +
                                          switched.error().message);
      return;
    }
    std::lock_guard lock(self->mutex_);
    self->file_text_ = std::move(*text);
    self->status_.file_fingerprint = *fingerprint;
    if (committed) {
      self->status_.serving = committed;
      self->status_.fingerprint = self->status_.committed_fingerprint;
      self->status_.error.clear();
      self->logger_.info(kComponent, "reloaded the node-local sections of " + self->path_ +
                                         "; serving committed version " +
                                         std::to_string(*committed));
      // The node starts from its whole file before it reads the store.
      if (auto alone = parse_config(self->file_text_, self->path_, self->base_dir()); !alone) {
        self->logger_.warn(
            kComponent, self->path_ + " does not load on its own, so this node would not start:\n" +
                            alone.error().message);
      }
      if (*fingerprint != self->status_.committed_fingerprint) {
        self->logger_.warn(kComponent, "this node's file differs from committed version " +
                                           std::to_string(*committed) + " (file " + *fingerprint +
                                           ", committed " + self->status_.committed_fingerprint +
                                           ")");
      }
    } else {
      self->status_.fingerprint = *fingerprint;
      self->logger_.info(kComponent, "reloaded " + self->path_);
    }
  });
}

ConfigNodeStatus ConfigFollower::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

Result<ValidatedConfig> ConfigFollower::validate(const std::string& text,
                                                 const std::string& name) const {
  std::string file_text;
  {
    std::lock_guard lock(mutex_);
    file_text = file_text_;
  }
  auto config =
      parse_config_parts(ConfigText{file_text, path_}, ConfigText{text, name}, base_dir());
  if (!config) return config.error();
  auto fingerprint = shared_fingerprint(text);
  if (!fingerprint) return fail(name, ": ", fingerprint.error().message);
  return ValidatedConfig{std::move(*fingerprint), node_sections_in(text)};
}

}  // namespace meridian::gslb
