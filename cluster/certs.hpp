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

struct CertificateRequest {
  std::string common_name;             ///< the node id (or the CA's name)
  std::vector<std::string> dns_names;  ///< subjectAltName DNS entries
  std::vector<IpAddress> addresses;    ///< subjectAltName IP entries
  std::chrono::hours validity{24 * 365 * 5};
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

/// Writes `certificate` as DIR/NAME.pem and DIR/NAME.key (mode 0600),
/// creating DIR. Refuses to overwrite an existing key.
Result<void> write_certificate(const std::string& directory, const std::string& name,
                               const IssuedCertificate& certificate);

/// Reads DIR/NAME.pem and DIR/NAME.key.
Result<IssuedCertificate> read_certificate(const std::string& directory, const std::string& name);

}  // namespace meridian::cluster
