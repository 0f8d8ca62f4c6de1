#include "cluster/certs.hpp"

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "base/private_directory.hpp"
#include "base/secret_file.hpp"

namespace meridian::cluster {
namespace {

/// How far a node certificate's notBefore is set back, for clock skew.
constexpr long kBackdateSeconds = 300;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

Error openssl_error(const std::string& what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return Error{what + ": " + text};
}

KeyPtr new_key() {
  return KeyPtr(EVP_EC_gen("P-256"));
}

std::string to_pem(const X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), const_cast<X509*>(certificate));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string to_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<void> add_extension(X509* certificate, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  ExtPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return openssl_error("extension " + value);
  }
  return {};
}

// A certificate for `request` with `key`, not yet signed; issuer name set
// by the caller.
Result<CertPtr> new_certificate(const CertificateRequest& request, EVP_PKEY* key) {
  CertPtr certificate(X509_new());
  if (!certificate) return openssl_error("X509_new");
  X509_set_version(certificate.get(), 2);  // v3
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;  // a positive serial
  BIGNUM* number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate.get()));
  BN_free(number);
  // Backdated to tolerate clock skew, by little: a removed name may come back
  // with a certificate issued after its revocation (cluster/raft_member.hpp).
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), -kBackdateSeconds);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()),
                  static_cast<long>(
                      std::chrono::duration_cast<std::chrono::seconds>(request.validity).count()));
  X509_set_pubkey(certificate.get(), key);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Meridian"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(request.common_name.c_str()),
                             -1, -1, 0);
  return certificate;
}

std::string alt_names(const CertificateRequest& request) {
  std::string names;
  for (const auto& dns : request.dns_names)
    names += (names.empty() ? "" : ",") + std::string("DNS:") + dns;
  for (const auto& ip : request.addresses)
    names += (names.empty() ? "" : ",") + std::string("IP:") + ip.to_string();
  return names;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read ", path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<IssuedCertificate> create_ca(const CertificateRequest& request) {
  KeyPtr key = new_key();
  if (!key) return openssl_error("CA key");
  auto certificate = new_certificate(request, key.get());
  if (!certificate) return certificate.error();
  X509* cert = certificate->get();
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  for (const auto& [nid, value] : {std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                   std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
                                   std::pair{NID_subject_key_identifier, "hash"}}) {
    if (auto added = add_extension(cert, cert, nid, value); !added) return added.error();
  }
  if (X509_sign(cert, key.get(), EVP_sha256()) == 0) return openssl_error("signing the CA");
  return IssuedCertificate{to_pem(cert), to_pem(key.get())};
}

Result<IssuedCertificate> issue_node_certificate(const IssuedCertificate& ca,
                                                 const CertificateRequest& request) {
  BioPtr ca_cert_bio(
      BIO_new_mem_buf(ca.certificate_pem.data(), static_cast<int>(ca.certificate_pem.size())));
  CertPtr ca_cert(PEM_read_bio_X509(ca_cert_bio.get(), nullptr, nullptr, nullptr));
  BioPtr ca_key_bio(BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size())));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(ca_key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca_cert || !ca_key) return openssl_error("reading the CA");
  if (X509_check_private_key(ca_cert.get(), ca_key.get()) != 1)
    return fail("the CA key does not match its certificate");

  KeyPtr key = new_key();
  if (!key) return openssl_error("node key");
  auto certificate = new_certificate(request, key.get());
  if (!certificate) return certificate.error();
  X509* cert = certificate->get();
  X509_set_issuer_name(cert, X509_get_subject_name(ca_cert.get()));
  const std::string names = alt_names(request);
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, "serverAuth,clientAuth"},
      {NID_authority_key_identifier, "keyid"},
  };
  if (!names.empty()) extensions.emplace_back(NID_subject_alt_name, names);
  for (const auto& [nid, value] : extensions) {
    if (auto added = add_extension(cert, ca_cert.get(), nid, value); !added) return added.error();
  }
  if (X509_sign(cert, ca_key.get(), EVP_sha256()) == 0)
    return openssl_error("signing the node certificate");
  return IssuedCertificate{to_pem(cert), to_pem(key.get())};
}

Result<void> validate_output_directory(const std::string& option, const std::string& directory) {
  if (directory.empty()) return fail(option, " needs a directory");
  for (const char c : directory) {
    // A name no one can type or read back in an error is a mistake.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return fail(option, " '", directory, "' holds a control character");
  }
  std::error_code ec;
  const auto status = std::filesystem::status(directory, ec);
  if (std::filesystem::exists(status) && !std::filesystem::is_directory(status))
    return fail(option, " '", directory, "' exists and is not a directory");
  return {};
}

Result<void> make_private_directory(const std::string& directory) {
  return make_private_directories(directory);
}

Result<void> write_certificate(const std::string& directory, const std::string& name,
                               const IssuedCertificate& certificate) {
  if (auto made = make_private_directory(directory); !made) return made;
  // The key first: if it cannot be written (one is there already), neither
  // is the certificate, so a certificate never sits beside another key.
  if (auto key = write_secret_file(directory + "/" + name + ".key", certificate.key_pem); !key)
    return key;
  return write_certificate_only(directory, name, certificate.certificate_pem);
}

Result<void> write_certificate_only(const std::string& directory, const std::string& name,
                                    const std::string& certificate_pem) {
  if (auto made = make_private_directory(directory); !made) return made;
  const std::string cert_path = directory + "/" + name + ".pem";
  if (std::filesystem::exists(std::filesystem::symlink_status(cert_path))) {
    // The same certificate again (the CA's copied beside a second node's
    // files) is fine; another one would silently replace what a node trusts.
    auto existing = read_file(cert_path);
    if (existing && *existing == certificate_pem) return {};
    return fail(cert_path, " exists with other content; not overwriting it");
  }
  std::ofstream cert(cert_path, std::ios::binary);
  cert << certificate_pem;
  if (!cert) return fail("cannot write ", cert_path);
  return {};
}

Result<void> replace_certificate(const std::string& directory, const std::string& name,
                                 const IssuedCertificate& certificate) {
  if (auto made = make_private_directory(directory); !made) return made;
  const std::string key_path = directory + "/" + name + ".key";
  const std::string cert_path = directory + "/" + name + ".pem";
  std::error_code error;
  if (!certificate.key_pem.empty()) {
    if (auto key = write_secret_file(key_path + ".new", certificate.key_pem); !key) return key;
    std::filesystem::rename(key_path + ".new", key_path, error);
    if (error) return fail("cannot rename ", key_path, ".new to ", key_path, ": ", error.message());
  }
  {
    std::ofstream cert(cert_path + ".new", std::ios::binary | std::ios::trunc);
    cert << certificate.certificate_pem;
    cert.flush();
    if (!cert) return fail("cannot write ", cert_path, ".new");
  }
  std::filesystem::rename(cert_path + ".new", cert_path, error);
  if (error) return fail("cannot rename ", cert_path, ".new to ", cert_path, ": ", error.message());
  return {};
}

Result<IssuedCertificate> read_certificate(const std::string& directory, const std::string& name) {
  auto certificate = read_file(directory + "/" + name + ".pem");
  if (!certificate) return certificate.error();
  auto key = read_secret_file(directory + "/" + name + ".key");
  if (!key) return key.error();
  return IssuedCertificate{std::move(certificate).value(), std::move(key).value()};
}

Result<std::vector<std::string>> certificate_names(const std::string& directory) {
  std::vector<std::string> names;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::filesystem::path& path = it->path();
    if (path.extension() != ".pem" || path.stem() == kCaFileName) continue;
    names.push_back(path.stem().string());
  }
  if (ec) return fail("cannot list ", directory, ": ", ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace meridian::cluster
