// The real `meridian serve` binary against real clients: every behaviour of
// authoritative DNS the single-node issue lists, over UDP and TCP, IPv4 and
// IPv6, plus a corpus of malformed packets the server must survive.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.hpp"

using namespace meridian::itest;

namespace {

std::string test_config(std::uint16_t port) {
  std::ostringstream y;
  y << R"(node: { id: itest-1, site: eu-west }
dns:
  listen: ["127.0.0.1:)"
    << port << R"(", "[::1]:)" << port << R"("]
  threads: 2
  udp_payload: 1232
  tcp_idle_timeout: 1s
  tcp_max_connections: 8
  nsid: itest-1
geoip: { database: geo.mmdb }
sites:
  us-west: { lat: 47.61, lon: -122.33 }
  us-east: { lat: 39.04, lon: -77.49 }
  eu-west: { lat: 51.51, lon: -0.13 }
  ap-northeast: { lat: 35.68, lon: 139.69 }
  sa-east: { lat: -23.55, lon: -46.63 }
zones:
  - origin: demo.test.
    ttl: 3600
    soa: { mname: ns1, rname: hostmaster, serial: 7, refresh: 3600, retry: 600, expire: 604800, minimum: 300, ttl: 3600 }
    ns: [ns1, ns2]
    records:
      - "ns1 IN A 127.0.0.1"
      - "ns2 IN AAAA ::1"
      - "@ IN MX 10 mail"
      - "mail IN A 192.0.2.25"
      - "static IN A 192.0.2.1"
      - "static IN TXT \"hello\""
      - "web IN CNAME www"
      - "alias IN CNAME web"
      - "*.wild IN A 192.0.2.99"
      - "sub IN NS ns.sub"
      - "ns.sub IN A 192.0.2.53"
      - "@ IN CAA 0 issue \"letsencrypt.org\""
      - "_sip._tcp IN SRV 10 20 5060 static"
      - "opaque IN SSHFP 1 1 0123456789abcdef0123456789abcdef01234567"
      - "1.2.0.192.in-addr IN PTR static"
)";
  for (int i = 0; i < 40; ++i) {
    y << "      - \"big IN TXT \\\"" << std::string(40, static_cast<char>('a' + i % 26)) << i
      << "\\\"\"\n";
  }
  y << R"(    services:
      www:
        ttl: 30
        policy: closest
        default_sites: [us-east]
        endpoints:
          - { address: [192.0.2.10, "2001:db8:10::10"], site: us-west }
          - { address: [192.0.2.20, "2001:db8:20::20"], site: us-east }
          - { address: [192.0.2.30, "2001:db8:30::30"], site: eu-west }
          - { address: [192.0.2.40, "2001:db8:40::40"], site: ap-northeast }
          - { address: [192.0.2.50, "2001:db8:50::50"], site: sa-east }
)";
  return y.str();
}

struct Fixture {
  TempDir dir;
  std::uint16_t port = free_port();
  std::unique_ptr<Server> server;

  Fixture() {
    require_tool("dig");
    require_tool("kdig");
    dir.write("node.yaml", test_config(port));
    const auto built = run(meridian_binary() + " geo build-db --input " + source_dir() +
                           "/configs/demo/geoip.csv --output " + dir.file("geo.mmdb"));
    if (built.status != 0) throw std::runtime_error("geo build-db failed: " + built.output);
    server = std::make_unique<Server>(dir.file("node.yaml"), port);
  }
};

Fixture& fixture() {
  static Fixture instance;
  return instance;
}

std::string normalize(std::string text) {
  for (char& c : text) {
    if (c == '\t') c = ' ';
  }
  static const std::regex spaces(" +");
  return std::regex_replace(text, spaces, " ");
}

std::string dig(const std::string& args, const std::string& server = "127.0.0.1") {
  const auto result = run("dig @" + server + " -p " + std::to_string(fixture().port) +
                          " +time=2 +tries=1 +nocookie " + args);
  return normalize(result.output);
}

std::string field(const std::string& output, const std::string& pattern) {
  std::smatch match;
  if (std::regex_search(output, match, std::regex(pattern))) return match[1];
  return "";
}
std::string status(const std::string& out) {
  return field(out, "status: ([A-Z]+)");
}
std::string flags(const std::string& out) {
  return field(out, ";; flags: ([a-z ]*);");
}
bool has_flag(const std::string& out, const std::string& flag) {
  std::istringstream words(flags(out));
  std::string word;
  while (words >> word) {
    if (word == flag) return true;
  }
  return false;
}

/// Lines of one dig section ("ANSWER", "AUTHORITY", "ADDITIONAL").
std::vector<std::string> section(const std::string& out, const std::string& name) {
  std::vector<std::string> lines;
  std::istringstream in(out);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line.rfind(";; " + name + " SECTION:", 0) == 0) {
      inside = true;
      continue;
    }
    if (inside) {
      if (line.empty()) break;
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace

TEST_CASE("server: authoritative answers keep the question's case", "[integration]") {
  const auto out = dig("StAtIc.DeMo.TeSt A");
  CHECK(status(out) == "NOERROR");
  CHECK(has_flag(out, "aa"));
  CHECK_FALSE(has_flag(out, "ra"));
  CHECK(section(out, "ANSWER") ==
        std::vector<std::string>{"StAtIc.DeMo.TeSt. 3600 IN A 192.0.2.1"});
}

TEST_CASE("server: NXDOMAIN and NODATA carry the SOA at the negative TTL", "[integration]") {
  const auto nx = dig("nope.demo.test A");
  CHECK(status(nx) == "NXDOMAIN");
  CHECK(has_flag(nx, "aa"));
  REQUIRE(section(nx, "AUTHORITY").size() == 1);
  CHECK_THAT(
      section(nx, "AUTHORITY")[0],
      Catch::StartsWith(
          "demo.test. 300 IN SOA ns1.demo.test. hostmaster.demo.test. 7 3600 600 604800 300"));

  const auto nodata = dig("static.demo.test AAAA");
  CHECK(status(nodata) == "NOERROR");
  CHECK(section(nodata, "ANSWER").empty());
  REQUIRE(section(nodata, "AUTHORITY").size() == 1);
  CHECK_THAT(section(nodata, "AUTHORITY")[0], Catch::StartsWith("demo.test. 300 IN SOA"));
}

TEST_CASE("server: names outside our zones are REFUSED", "[integration]") {
  const auto out = dig("www.example.org A");
  CHECK(status(out) == "REFUSED");
  CHECK_FALSE(has_flag(out, "aa"));
}

TEST_CASE("server: wildcards, CNAME chains and delegations", "[integration]") {
  const auto wild = dig("Foo.Bar.wild.demo.test A");
  CHECK(section(wild, "ANSWER") ==
        std::vector<std::string>{"Foo.Bar.wild.demo.test. 3600 IN A 192.0.2.99"});
  CHECK(has_flag(wild, "aa"));

  const auto chain = dig("alias.demo.test A +subnet=81.2.69.0/24");
  CHECK(section(chain, "ANSWER") ==
        std::vector<std::string>{"alias.demo.test. 3600 IN CNAME web.demo.test.",
                                 "web.demo.test. 3600 IN CNAME www.demo.test.",
                                 "www.demo.test. 30 IN A 192.0.2.30"});

  const auto referral = dig("host.sub.demo.test A");
  CHECK(status(referral) == "NOERROR");
  CHECK_FALSE(has_flag(referral, "aa"));
  CHECK(section(referral, "ANSWER").empty());
  CHECK(section(referral, "AUTHORITY") ==
        std::vector<std::string>{"sub.demo.test. 3600 IN NS ns.sub.demo.test."});
  CHECK(section(referral, "ADDITIONAL") ==
        std::vector<std::string>{"ns.sub.demo.test. 3600 IN A 192.0.2.53"});
}

TEST_CASE("server: record types, and addresses for NS, MX and SRV targets", "[integration]") {
  const auto ns = dig("demo.test NS");
  CHECK(section(ns, "ANSWER").size() == 2);
  CHECK(section(ns, "ADDITIONAL") == std::vector<std::string>{"ns1.demo.test. 3600 IN A 127.0.0.1",
                                                              "ns2.demo.test. 3600 IN AAAA ::1"});
  CHECK(section(dig("demo.test MX"), "ADDITIONAL") ==
        std::vector<std::string>{"mail.demo.test. 3600 IN A 192.0.2.25"});
  CHECK(section(dig("_sip._tcp.demo.test SRV"), "ADDITIONAL") ==
        std::vector<std::string>{"static.demo.test. 3600 IN A 192.0.2.1"});
  CHECK(section(dig("demo.test CAA"), "ANSWER") ==
        std::vector<std::string>{"demo.test. 3600 IN CAA 0 issue \"letsencrypt.org\""});
  CHECK(section(dig("demo.test SOA"), "ANSWER").size() == 1);
  CHECK(section(dig("static.demo.test TXT"), "ANSWER") ==
        std::vector<std::string>{"static.demo.test. 3600 IN TXT \"hello\""});
  CHECK(section(dig("1.2.0.192.in-addr.demo.test PTR"), "ANSWER") ==
        std::vector<std::string>{"1.2.0.192.in-addr.demo.test. 3600 IN PTR static.demo.test."});
  CHECK(section(dig("opaque.demo.test SSHFP"), "ANSWER") ==
        std::vector<std::string>{
            "opaque.demo.test. 3600 IN SSHFP 1 1 0123456789ABCDEF0123456789ABCDEF01234567"});
}

TEST_CASE("server: ANY gets a minimal answer", "[integration]") {
  const auto out = dig("static.demo.test ANY");
  CHECK(status(out) == "NOERROR");
  CHECK(section(out, "ANSWER").size() == 1);
}

TEST_CASE("server: EDNS echo, payload size, NSID and BADVERS", "[integration]") {
  const auto edns = dig("static.demo.test A +nsid +bufsize=4096");
  CHECK_THAT(edns, Catch::Contains("EDNS: version: 0, flags:; udp: 1232"));
  CHECK_THAT(edns, Catch::Contains("NSID: 69 74 65 73 74 2d 31 (\"itest-1\")"));

  const auto plain = dig("static.demo.test A +noedns");
  CHECK_THAT(plain, !Catch::Contains("OPT PSEUDOSECTION"));

  const auto badvers = dig("static.demo.test A +edns=1 +noednsneg");
  CHECK(status(badvers) == "BADVERS");
  CHECK_THAT(badvers, Catch::Contains("EDNS: version: 0"));
}

TEST_CASE("server: other opcodes get NOTIMP", "[integration]") {
  const auto out = dig("demo.test SOA +opcode=notify");
  CHECK(status(out) == "NOTIMP");
}

TEST_CASE("server: oversized UDP answers set TC and dig retries over TCP", "[integration]") {
  const auto truncated = dig("big.demo.test TXT +ignore");
  CHECK(has_flag(truncated, "tc"));
  CHECK(section(truncated, "ANSWER").empty());
  CHECK(status(truncated) == "NOERROR");

  const auto small = dig("big.demo.test TXT +ignore +noedns");
  CHECK(has_flag(small, "tc"));
  CHECK_THAT(small, Catch::Contains("MSG SIZE rcvd: 31"));  // header + question only, within 512

  const auto retried = dig("big.demo.test TXT");
  CHECK_THAT(retried, Catch::Contains("Truncated, retrying in TCP mode"));
  CHECK(section(retried, "ANSWER").size() == 40);
}

TEST_CASE("server: ECS steers to the closest site and echoes the scope", "[integration]") {
  struct Case {
    const char* subnet;
    const char* type;
    const char* answer;
  };
  const Case cases[] = {
      {"81.2.69.0/24", "A", "192.0.2.30"},           // London -> eu-west
      {"89.160.20.0/24", "A", "192.0.2.30"},         // Linköping -> eu-west
      {"216.160.83.0/24", "A", "192.0.2.10"},        // Milton, WA -> us-west
      {"175.16.199.0/24", "A", "192.0.2.40"},        // Changchun -> ap-northeast
      {"200.160.0.0/20", "A", "192.0.2.50"},         // São Paulo -> sa-east
      {"2001:218::/32", "AAAA", "2001:db8:40::40"},  // Tokyo -> ap-northeast
  };
  for (const Case& c : cases) {
    INFO(c.subnet);
    for (const char* transport : {"", "+tcp"}) {
      const auto out =
          dig(std::string("www.demo.test ") + c.type + " +subnet=" + c.subnet + " " + transport);
      CHECK(
          section(out, "ANSWER") ==
          std::vector<std::string>{std::string("www.demo.test. 30 IN ") + c.type + " " + c.answer});
      // dig prints the ECS option as ADDRESS/SOURCE/SCOPE; the scope is set.
      const std::string ecs = field(out, "CLIENT-SUBNET: ([0-9a-f:./]+)");
      INFO(ecs);
      REQUIRE_FALSE(ecs.empty());
      CHECK(ecs.substr(ecs.rfind('/') + 1) != "0");
    }
  }
  // No location (loopback source, no ECS): default_sites -> us-east.
  CHECK(section(dig("www.demo.test A"), "ANSWER") ==
        std::vector<std::string>{"www.demo.test. 30 IN A 192.0.2.20"});
  // Static answers do not depend on the client: scope 0.
  CHECK_THAT(dig("static.demo.test A +subnet=81.2.69.0/24"),
             Catch::Contains("CLIENT-SUBNET: 81.2.69.0/24/0"));
}

TEST_CASE("server: IPv6 listener and kdig agree", "[integration]") {
  const auto v6 = dig("www.demo.test AAAA +subnet=81.2.69.0/24", "::1");
  CHECK(section(v6, "ANSWER") ==
        std::vector<std::string>{"www.demo.test. 30 IN AAAA 2001:db8:30::30"});
  const auto k = run("kdig @127.0.0.1 -p " + std::to_string(fixture().port) +
                     " +tcp +subnet=175.16.199.0/24 +short www.demo.test A");
  CHECK(k.status == 0);
  CHECK(normalize(k.output).find("192.0.2.40") != std::string::npos);
}

namespace {

int tcp_connect(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::vector<std::uint8_t> query_bytes(std::uint16_t id, const std::string& name,
                                      std::uint16_t type) {
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 0,
                                 0,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0};
  std::istringstream labels(name);
  std::string label;
  while (std::getline(labels, label, '.')) {
    q.push_back(static_cast<std::uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
  }
  q.push_back(0);
  q.push_back(0);
  q.push_back(static_cast<std::uint8_t>(type));
  q.push_back(0);
  q.push_back(1);
  return q;
}

// Reads exactly n bytes or returns false (closed or 3 s without data).
bool read_exact(int fd, std::uint8_t* out, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 3000) != 1) return false;
    const ssize_t r = ::recv(fd, out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

TEST_CASE("server: TCP answers pipelined queries in order", "[integration]") {
  const int fd = tcp_connect(fixture().port);
  REQUIRE(fd >= 0);
  std::vector<std::uint8_t> batch;
  for (std::uint16_t id : {101, 102, 103}) {
    const auto q = query_bytes(id, id == 102 ? "nope.demo.test" : "static.demo.test", 1);
    batch.push_back(static_cast<std::uint8_t>(q.size() >> 8));
    batch.push_back(static_cast<std::uint8_t>(q.size()));
    batch.insert(batch.end(), q.begin(), q.end());
  }
  REQUIRE(::send(fd, batch.data(), batch.size(), 0) == static_cast<ssize_t>(batch.size()));
  for (std::uint16_t id : {101, 102, 103}) {
    std::uint8_t prefix[2];
    REQUIRE(read_exact(fd, prefix, 2));
    std::vector<std::uint8_t> response((prefix[0] << 8) | prefix[1]);
    REQUIRE(read_exact(fd, response.data(), response.size()));
    CHECK(((response[0] << 8) | response[1]) == id);
    CHECK((response[3] & 0x0F) == (id == 102 ? 3 : 0));
  }
  ::close(fd);
}

TEST_CASE("server: idle TCP connections are closed after the idle timeout", "[integration]") {
  const int fd = tcp_connect(fixture().port);
  REQUIRE(fd >= 0);
  const auto start = std::chrono::steady_clock::now();
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  std::uint8_t byte;
  CHECK(::recv(fd, &byte, 1, 0) == 0);  // orderly close by the server
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= std::chrono::milliseconds(900));
  CHECK(waited < std::chrono::milliseconds(4000));
  ::close(fd);
}

TEST_CASE("server: at the TCP cap the oldest idle connection makes room for a new one",
          "[integration]") {
  // tcp_max_connections is 8, all from one client (under its per-client
  // cap): the ninth evicts the first, which the server closes at once.
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) {
    const int fd = tcp_connect(fixture().port);
    REQUIRE(fd >= 0);
    held.push_back(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // accepted in this order
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int extra = tcp_connect(fixture().port);
  REQUIRE(extra >= 0);
  pollfd oldest{held.front(), POLLIN, 0};
  REQUIRE(::poll(&oldest, 1, 900) == 1);  // closed well before the 1 s idle timeout
  std::uint8_t byte;
  CHECK(::recv(held.front(), &byte, 1, 0) <= 0);
  pollfd newest{extra, POLLIN, 0};
  CHECK(::poll(&newest, 1, 200) == 0);  // the newcomer is served, not closed
  pollfd second{held[1], POLLIN, 0};
  CHECK(::poll(&second, 1, 0) == 0);  // only one was evicted
  ::close(extra);
  for (int fd : held) ::close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(section(dig("static.demo.test A +tcp"), "ANSWER").size() == 1);
}

TEST_CASE("server: malformed packets get FORMERR or silence, never a crash", "[integration]") {
  const std::uint16_t port = fixture().port;
  const auto good = query_bytes(0x4242, "static.demo.test", 1);
  std::vector<std::vector<std::uint8_t>> corpus = {
      {},
      {0x12},
      std::vector<std::uint8_t>(11, 0xff),
      std::vector<std::uint8_t>(12, 0),                            // no question
      {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1},  // pointer loop
      {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 40, 0, 1, 0, 1},  // pointer past the end
      {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 16, 0, 1, 0, 1, 1, 'a', 0},  // forward pointer
      {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63, 'a', 'b'},                     // label past the end
      {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x80, 'a', 0, 0, 1, 0, 1},         // reserved label type
      {0, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0},                             // QDCOUNT 65535
      {0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 1},  // ARCOUNT with no records
      {0, 1, 0x80, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1},     // a response
  };
  auto with_garbage = good;
  with_garbage.insert(with_garbage.end(), {1, 2, 3});
  corpus.push_back(with_garbage);
  auto cut = good;
  cut.resize(cut.size() - 2);
  corpus.push_back(cut);
  // A bad ECS (address longer than its prefix needs).
  auto bad_ecs = good;
  bad_ecs[11] = 1;
  bad_ecs.insert(bad_ecs.end(),
                 {0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 11, 0, 8, 0, 7, 0, 1, 8, 0, 81, 2, 69});
  corpus.push_back(bad_ecs);

  for (std::size_t i = 0; i < corpus.size(); ++i) {
    INFO("corpus entry " << i);
    const auto reply = udp_exchange(port, corpus[i], std::chrono::milliseconds(300));
    if (!reply.empty()) {
      REQUIRE(reply.size() >= 12);
      CHECK((reply[2] & 0x80) != 0);  // a response
      CHECK((reply[3] & 0x0F) == 1);  // FORMERR
    }
  }
  // Random mutations of a valid query, from a fixed seed.
  std::mt19937 random(20261128);
  for (int i = 0; i < 3000; ++i) {
    auto packet = good;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      switch (random() % 3) {
        case 0: packet[random() % packet.size()] = static_cast<std::uint8_t>(random()); break;
        case 1:
          packet.resize(random() % (packet.size() + 1));
          if (packet.empty()) packet.push_back(0);
          break;
        default: packet.push_back(static_cast<std::uint8_t>(random())); break;
      }
    }
    udp_exchange(port, packet, std::chrono::milliseconds(0));
  }
  // Garbage over TCP: a huge length prefix, then a close mid-message.
  const int fd = tcp_connect(port);
  REQUIRE(fd >= 0);
  const std::uint8_t garbage[] = {0xff, 0xff, 1, 2, 3};
  ::send(fd, garbage, sizeof garbage, 0);
  ::close(fd);

  CHECK(fixture().server->running());
  const auto reply = udp_exchange(port, good);
  REQUIRE(reply.size() > 12);
  CHECK((reply[3] & 0x0F) == 0);
  CHECK(section(dig("static.demo.test A"), "ANSWER").size() == 1);
}
