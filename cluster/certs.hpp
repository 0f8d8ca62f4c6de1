#pragma once
// Certificates for the cluster's mutual TLS: a private cluster CA and one
// certificate per node signed by it. For tests, the demo, and small
// deployments; larger ones use their own PKI. certs.cpp is the OpenSSL user
// for certificate creation (EC P-256 keys, SHA-256 signatures).

#include <chrono>
#include <string>
#include <vector>

#include "base/ip_address.hpp"
#include "base/result.hpp"

namespace meridian::cluster {

/// A node certificate's default lifetime: one year, renewed with
/// `meridian cluster certs renew` and a SIGHUP (no restart). Short enough
/// that a leaked key does not outlive a year; revocation (cluster remove)
/// covers the rest.
inline constexpr int kNodeCertificateDays = 365;
inline constexpr std::chrono::hours kNodeCertificateValidity{24 * kNodeCertificateDays};
/// The longest lifetime `--days` accepts for a node certificate.
inline constexpr int kMaxNodeCertificateDays = 3 * 365;

struct CertificateRequest {
  std::string common_name;             ///< the node id (or the CA's name)
  std::vector<std::string> dns_names;  ///< subjectAltName DNS entries
  std::vector<IpAddress> addresses;    ///< subjectAltName IP entries
  std::chrono::hours validity{kNodeCertificateValidity};
};

/// A PEM certificate and its PEM private key.
struct IssuedCertificate {
  std::string certificate_pem;
  std::string key_pem;
};

/// A new self-signed CA (basicConstraints CA:TRUE, keyCertSign).
Result<IssuedCertificate> create_ca(const CertificateRequest& request);

/// A node certificate signed by `ca` (CA:FALSE; serverAuth and clientAuth,
/// since nodes are both ends of peer connections).
Result<IssuedCertificate> issue_node_certificate(const IssuedCertificate& ca,
                                                 const CertificateRequest& request);

/// The file name the CA's certificate and key take in the CA's directory
/// (ca.pem, ca.key); no node may be named so.
inline constexpr const char* kCaFileName = "ca";

/// Checks a directory given to `cluster certs`: not empty, no control
/// characters, and a directory if it exists. The error names the option.
Result<void> validate_output_directory(const std::string& option, const std::string& directory);

/// Creates `directory` (and missing parents) if it is missing; every
/// directory it creates has mode 0700, since keys go in it
/// (base/private_directory.hpp).
Result<void> make_private_directory(const std::string& directory);

/// Writes `certificate` as DIR/NAME.pem and DIR/NAME.key, creating DIR
/// (make_private_directory). The key is created with mode 0600 from the
/// start, never through a symlink and never over an existing file
/// (base/secret_file.hpp); an error names the key file. The certificate is
/// written only once the key is.
Result<void> write_certificate(const std::string& directory, const std::string& name,
                               const IssuedCertificate& certificate);

/// Writes only the certificate, DIR/NAME.pem (public; replaces an existing
/// file of the same content, refuses a different one).
Result<void> write_certificate_only(const std::string& directory, const std::string& name,
                                    const std::string& certificate_pem);

/// Replaces DIR/NAME.pem and DIR/NAME.key with `certificate` (a renewal):
/// each is written beside its target under a ".new" name (the key with
/// write_secret_file's care: 0600, no symlink, not over an existing file)
/// and renamed over it, so a reader sees the old file or the new one, never
/// a half-written one. The key goes first; an empty key_pem replaces only
/// the certificate (the CA directory's record of what it issued). Errors
/// name the file.
Result<void> replace_certificate(const std::string& directory, const std::string& name,
                                 const IssuedCertificate& certificate);

/// Reads DIR/NAME.pem and DIR/NAME.key; the key with read_secret_file's
/// checks (mode 0600 or narrower, at most 64 KiB).
Result<IssuedCertificate> read_certificate(const std::string& directory, const std::string& name);

/// The names of the certificates in `directory` (NAME of every NAME.pem),
/// the CA's excepted, sorted: the nodes a CA directory has issued for.
Result<std::vector<std::string>> certificate_names(const std::string& directory);

}  // namespace meridian::cluster
