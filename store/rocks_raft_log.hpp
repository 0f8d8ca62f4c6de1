#pragma once
// The RaftLog on RocksDB. rocks_*.cpp are the only RocksDB users of Meridian.
// One database per node under data_dir, with column families "log" (key:
// big-endian index; value: term, type, data), "meta" (hard state, snapshot
// metadata) and "state" (the replicated key-value state machine, see
// store/kv_state.hpp). Every save is one WriteBatch written with sync=true.

#include <memory>
#include <string>

#include "base/result.hpp"
#include "store/raft_log.hpp"

namespace meridian::store {

class RocksDatabase;  // the open database, shared by the log and the state machine

/// Opens (creating if missing) the database at `directory`. Errors name the
/// path and RocksDB's reason (e.g. a lock held by another process).
Result<std::shared_ptr<RocksDatabase>> open_database(const std::string& directory);

/// The log stored in `database`. Reads the current state at construction.
Result<std::unique_ptr<RaftLog>> make_rocks_log(std::shared_ptr<RocksDatabase> database);

}  // namespace meridian::store
