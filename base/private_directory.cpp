#include "base/private_directory.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace meridian {

Result<void> make_private_directories(const std::string& path) {
  if (path.empty()) return fail("an empty directory name");
  // Each prefix in turn, from the root down: mkdir's own mode, never a chmod
  // afterwards, and never a mode on a directory that was already there.
  std::filesystem::path prefix;
  for (const auto& part : std::filesystem::path(path).lexically_normal()) {
    prefix /= part;
    if (part.empty() || part == "/" || part == "." || part == "..") continue;
    const std::string current = prefix.string();
    if (::mkdir(current.c_str(), 0700) == 0) continue;
    const int error = errno;
    struct stat status {};
    if (error == EEXIST && ::stat(current.c_str(), &status) == 0 && S_ISDIR(status.st_mode))
      continue;
    if (error == EEXIST)
      return fail("cannot create ", current, ": it exists and is not a directory");
    return fail("cannot create ", current, ": ", std::strerror(error));
  }
  return {};
}

}  // namespace meridian
