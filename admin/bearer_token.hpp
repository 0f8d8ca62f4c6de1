#pragma once
// Private to admin/: the bearer token that guards mutate routes (RFC 6750).
// The one OpenSSL user in admin/.

#include <array>
#include <optional>
#include <string_view>

namespace meridian::admin {

class BearerToken {
 public:
  enum class Verdict {
    ok,       ///< "Bearer <the token>"
    missing,  ///< no Authorization header, or another scheme: 401
    wrong,    ///< "Bearer <something else>": 403
  };

  /// Nullopt when `token` is unusable: empty, or not all printable ASCII
  /// without spaces (it could never arrive intact in a header).
  static std::optional<BearerToken> make(std::string_view token);

  /// Judges an Authorization header value ("" when absent). The scheme is
  /// case-insensitive. The credentials are compared in constant time (their
  /// SHA-256 digests), so the time taken says nothing about the token.
  Verdict check(std::string_view authorization) const;

 private:
  using Digest = std::array<unsigned char, 32>;
  explicit BearerToken(const Digest& digest) : digest_(digest) {}
  static Digest digest_of(std::string_view text);

  Digest digest_;
};

}  // namespace meridian::admin
