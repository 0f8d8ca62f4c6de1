#pragma once
// Files that hold secrets: private keys (the cluster CA's and the nodes') and
// the admin token. Written so that no other user can ever read them, even for
// a moment, and read only when no other user could have read them.
//
// Writing creates the file with O_CREAT|O_EXCL|O_NOFOLLOW and mode 0600 from
// the start: never a world-readable file chmod'ed afterwards (a reader could
// open it in between), never through a symlink planted at the path (it could
// point at a file the caller did not mean to write), never over an existing
// secret (an operator who runs `cluster certs` twice must not lose the CA
// key that signed a running cluster).
//
// Reading opens the file once and checks what it opened (fstat, so the file
// checked is the file read): a regular file, at most a size cap, with no
// permission bits for group or others. A secret others can read is not a
// secret any more; the error names the file and the fix (`chmod 600`).
//
// Thread rule: free functions without shared state; any thread.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.hpp"

namespace meridian {

/// The largest secret file read_secret_file() accepts by default, in bytes.
/// A PEM key or a token is a few hundred bytes; anything near this is not
/// one (a wrong path, a device), and reading it whole would be unbounded.
inline constexpr std::size_t kMaxSecretFileBytes = std::size_t{64} * 1024;

/// Creates `path` (mode 0600, no symlink followed, never an existing file)
/// and writes `content` to it, flushed to disk. Errors name the path: "exists;
/// not overwriting" when something (a file or a symlink) is already there.
/// On a write error the partial file is removed.
Result<void> write_secret_file(const std::string& path, std::string_view content);

/// The whole content of the secret file `path`. Errors name the path: not
/// readable, not a regular file, larger than `max_bytes`, or readable,
/// writable or executable by group or others (with the mode found and
/// "chmod 600 PATH" as the fix).
Result<std::string> read_secret_file(const std::string& path,
                                     std::size_t max_bytes = kMaxSecretFileBytes);

}  // namespace meridian
