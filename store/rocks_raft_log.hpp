#pragma once
// The RaftLog on RocksDB. rocks_*.cpp are the only RocksDB users of Meridian
// (and of those only store/rocks_database.cpp includes RocksDB itself).
// One database per node under data_dir, with column families "log" (key:
// big-endian index; value: term, type, data), "meta" (hard state, snapshot
// metadata) and "state" (the replicated key-value state machine, see
// store/kv_state.hpp). The byte layout is in store/log_encoding.hpp.
//
// Durability: every mutation (save, install_snapshot, compact) is one
// WriteBatch written with sync=true, so it is on stable storage, whole or not
// at all, when the call returns (except a save that only raises the commit
// index, see RaftLog::save); a failed call changed nothing, on disk or in
// the object.
//
// Caching: the log keeps the hard state, the snapshot, the compaction point
// and the term of every entry in memory (8 bytes an entry), read and
// validated at construction; entries() reads the data from RocksDB and
// checks it again, so a value corrupted while running is an Error there,
// never a crash or a wrong answer.
//
// Behaviour is the in-memory log's (store/memory_raft_log.cpp), with the
// limits below added: a save or snapshot beyond them is an Error.
//
// Thread rule: like every RaftLog, one owner. The database may be shared.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/result.hpp"
#include "store/raft_log.hpp"

namespace meridian::store {

/// Largest snapshot data stored (kept as one RocksDB value, and in memory).
inline constexpr std::uint64_t kMaxSnapshotBytes = 256ull << 20;
/// Largest data of one entry.
inline constexpr std::uint64_t kMaxEntryBytes = 64ull << 20;
/// Most voters, and most learners, in a snapshot's membership.
inline constexpr std::size_t kMaxMembershipIds = 4096;

class RocksDatabase;  // the open database, shared by the log and the state machine
                      // (store/rocks_database.hpp)

/// Opens (creating if missing: `directory` and its missing parents, mode 0700,
/// base/private_directory.hpp) the database at `directory`, with the column
/// families "log", "meta" and "state" (created when missing). Errors name the
/// path and RocksDB's reason (e.g. a lock held by another process, or by
/// another open of the same directory in this process).
Result<std::shared_ptr<RocksDatabase>> open_database(const std::string& directory);

/// The log stored in `database`. Reads and validates the current state at
/// construction: a corrupt or inconsistent record is an Error naming it.
/// At most one log per database.
Result<std::unique_ptr<RaftLog>> make_rocks_log(std::shared_ptr<RocksDatabase> database);

}  // namespace meridian::store
