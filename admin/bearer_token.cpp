#include "admin/bearer_token.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <boost/beast/core/string.hpp>

#include "base/assert.hpp"

namespace meridian::admin {

namespace {

constexpr std::string_view kScheme = "bearer";

bool printable_without_spaces(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::optional<BearerToken> BearerToken::make(std::string_view token) {
  if (token.empty() || !printable_without_spaces(token)) return std::nullopt;
  return BearerToken(digest_of(token));
}

BearerToken::Verdict BearerToken::check(std::string_view authorization) const {
  authorization = trim(authorization);
  const std::size_t space = authorization.find_first_of(" \t");
  if (space == std::string_view::npos ||
      !boost::beast::iequals(authorization.substr(0, space), kScheme)) {
    return Verdict::missing;
  }
  const std::string_view credentials = trim(authorization.substr(space));
  if (credentials.empty()) return Verdict::missing;
  // Digests have one length whatever was sent, so CRYPTO_memcmp runs over
  // the same 32 bytes every time and neither the length nor a matching
  // prefix of the token shows in the timing.
  const Digest presented = digest_of(credentials);
  return CRYPTO_memcmp(presented.data(), digest_.data(), digest_.size()) == 0 ? Verdict::ok
                                                                              : Verdict::wrong;
}

BearerToken::Digest BearerToken::digest_of(std::string_view text) {
  Digest digest{};
  unsigned int length = 0;
  const int done =
      EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  MERIDIAN_ASSERT(done == 1 && length == digest.size(), "SHA-256 failed");
  return digest;
}

}  // namespace meridian::admin
