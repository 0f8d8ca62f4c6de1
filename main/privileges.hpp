#pragma once
// Least privilege for `meridian serve`: it binds its DNS ports (53 needs
// root or CAP_NET_BIND_SERVICE) and then becomes an unprivileged user for
// the rest of its life, and it never leaves a core dump (or a ptrace
// handle for other processes of that user) holding its TLS keys, the admin
// token or the cookie secret.
//
// Thread rule: any thread. The kernel keeps credentials per thread; glibc's
// setuid and setgid change them in every thread of the process at once, so
// threads started before the drop (the health thread) drop with it.

#include <string>

#include "base/result.hpp"

namespace meridian {

/// Sets RLIMIT_CORE to 0 and marks the process not dumpable (no core file,
/// and only root may ptrace it or read its /proc memory).
Result<void> forbid_core_dumps();

/// Becomes `user` (its uid, its primary gid and its supplementary groups)
/// for good: afterwards the process cannot become root again (checked).
/// Errors name the user and the failing step. Precondition: running as
/// root (or with CAP_SETUID and CAP_SETGID).
Result<void> drop_privileges(const std::string& user);

}  // namespace meridian
