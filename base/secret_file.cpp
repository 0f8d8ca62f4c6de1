#include "base/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace meridian {
namespace {

// Closes a descriptor on every path out of a function.
class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  // Closes now, so that a failing close (a deferred write error) is seen.
  int close() noexcept {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

}  // namespace

Result<void> write_secret_file(const std::string& path, std::string_view content) {
  // 0600 in open() itself: the file never exists with wider permissions (the
  // umask can only narrow them).
  Fd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600));
  if (fd.get() < 0) {
    const int error = errno;
    // With O_EXCL a symlink at the path fails as EEXIST, whatever it points at.
    if (error == EEXIST)
      return fail(path, " exists; not overwriting a secret (move it away first)");
    return fail("cannot create ", path, ": ", std::strerror(error));
  }
  std::size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd.get(), content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      fd.close();
      ::unlink(path.c_str());  // a truncated key would only fail later, less clearly
      return fail("cannot write ", path, ": ", std::strerror(error));
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    return fail("cannot write ", path, ": ", std::strerror(error));
  }
  return {};
}

Result<std::string> read_secret_file(const std::string& path, std::size_t max_bytes) {
  // Symlinks are followed on reading (secrets are often mounted that way);
  // the checks below are made on what was opened.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return fail("cannot read ", path, ": ", std::strerror(errno));
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0)
    return fail("cannot read ", path, ": ", std::strerror(errno));
  if (!S_ISREG(status.st_mode)) return fail(path, " is not a regular file");
  if ((status.st_mode & 077) != 0) {
    return fail(path, " holds a secret but has mode ", octal_mode(status.st_mode),
                ", open to group or others; run `chmod 600 ", path, "`");
  }
  if (static_cast<std::uintmax_t>(status.st_size) > max_bytes) {
    return fail(path, " is larger than ", std::to_string(max_bytes),
                " bytes (it should hold a key or a token)");
  }
  std::string content;
  // One byte more than the cap: a file that grew since fstat is still caught.
  content.resize(max_bytes + 1);
  std::size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd.get(), content.data() + size, content.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read ", path, ": ", std::strerror(errno));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  if (size > max_bytes) {
    return fail(path, " is larger than ", std::to_string(max_bytes),
                " bytes (it should hold a key or a token)");
  }
  content.resize(size);
  return content;
}

}  // namespace meridian
