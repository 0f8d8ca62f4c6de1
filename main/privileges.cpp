#include "main/privileges.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace meridian {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

Result<void> forbid_core_dumps() {
  const rlimit none{0, 0};
  if (::setrlimit(RLIMIT_CORE, &none) != 0) return fail("setrlimit(RLIMIT_CORE): ", errno_text());
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    return fail("prctl(PR_SET_DUMPABLE): ", errno_text());
  return {};
}

Result<void> drop_privileges(const std::string& user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int error = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (error != 0) return fail("--user ", user, ": ", std::strerror(error));
  if (found == nullptr) return fail("--user ", user, ": no such user");
  const uid_t uid = found->pw_uid;
  const gid_t gid = found->pw_gid;
  if (uid == 0) return fail("--user ", user, ": that is root; name an unprivileged user");
  // Groups first, then the gid, then the uid: once the uid is dropped the
  // process may no longer change its groups.
  if (::initgroups(user.c_str(), gid) != 0)
    return fail("--user ", user, ": initgroups: ", errno_text());
  if (::setgid(gid) != 0) return fail("--user ", user, ": setgid: ", errno_text());
  if (::setuid(uid) != 0) return fail("--user ", user, ": setuid: ", errno_text());
  if (::setuid(0) == 0 || ::geteuid() != uid || ::getegid() != gid)
    return fail("--user ", user, ": the process could become root again");
  // setuid re-enables dumping; the keys are still in memory.
  return forbid_core_dumps();
}

}  // namespace meridian
