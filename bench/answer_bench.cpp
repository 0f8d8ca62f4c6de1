// Hot-path benchmark (part of `make bench`): the answerer alone, in one
// thread, on the real routing table compiled from a config, with no sockets
// and no load generator sharing the CPU. It times three queries: a static
// name, the steered service name from a source address, and the service name
// with an ECS subnet (GeoIP lookup, site order, scope). Interleaved rounds,
// median per query kind, so a noisy neighbour shifts every kind alike.
// Not a test: numbers only.
//
//   answer_bench --config FILE --static NAME --service NAME --ecs A.B.C.0/24
//                [--rounds N] [--queries-per-round N]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "dns/answerer.hpp"
#include "geo/geo_index.hpp"
#include "gslb/routing_builder.hpp"

using namespace meridian;
using BenchClock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string config;
  std::string static_name;
  std::string service_name;
  std::string ecs;
  int rounds = 7;
  int queries_per_round = 400'000;
};

void put16(std::vector<std::uint8_t>& out, unsigned value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

// One query for NAME type A, recursion desired, with an OPT record carrying
// an ECS option for `ecs` when it is a network (as dnsperf -E sends it).
std::vector<std::uint8_t> make_query(const std::string& name, const IpNetwork* ecs) {
  std::vector<std::uint8_t> out;
  put16(out, 0x4d52);
  put16(out, 0x0100);
  put16(out, 1);
  put16(out, 0);
  put16(out, 0);
  put16(out, ecs != nullptr ? 1 : 0);
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), name.begin() + static_cast<std::ptrdiff_t>(start),
               name.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  put16(out, 1);  // A
  put16(out, 1);  // IN
  if (ecs != nullptr) {
    const unsigned address_bytes = (ecs->prefix_len + 7) / 8;
    out.push_back(0);  // root owner
    put16(out, 41);    // OPT
    put16(out, 1232);
    put16(out, 0);
    put16(out, 0);
    put16(out, 8 + address_bytes);  // RDLENGTH
    put16(out, 8);                  // option: client subnet
    put16(out, 4 + address_bytes);
    put16(out, ecs->address.family == IpAddress::Family::v4 ? 1 : 2);
    out.push_back(static_cast<std::uint8_t>(ecs->prefix_len));
    out.push_back(0);
    out.insert(out.end(), ecs->address.bytes.begin(), ecs->address.bytes.begin() + address_bytes);
  }
  return out;
}

bool parse_options(int argc, char** argv, Options& options) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--config") {
      options.config = value;
    } else if (flag == "--static") {
      options.static_name = value;
    } else if (flag == "--service") {
      options.service_name = value;
    } else if (flag == "--ecs") {
      options.ecs = value;
    } else if (flag == "--rounds") {
      options.rounds = std::max(1, std::stoi(value));
    } else if (flag == "--queries-per-round") {
      options.queries_per_round = std::max(1, std::stoi(value));
    } else {
      std::cerr << "answer_bench: unknown option " << flag << "\n";
      return false;
    }
  }
  return !options.config.empty() && !options.static_name.empty() && !options.service_name.empty() &&
         !options.ecs.empty();
}

struct Kind {
  std::string label;
  std::vector<std::uint8_t> query;
  std::vector<double> ns_per_query;  // one figure per round
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!parse_options(argc, argv, options)) {
    std::cerr << "usage: answer_bench --config FILE --static NAME --service NAME --ecs NETWORK "
                 "[--rounds N] [--queries-per-round N]\n";
    return 2;
  }
  auto config = load_config(options.config);
  if (!config) {
    std::cerr << config.error().message << "\n";
    return 1;
  }
  auto index = geo::GeoIndex::open(config->geoip.database, config->geoip.asn_database);
  if (!index) {
    std::cerr << index.error().message << "\n";
    return 1;
  }
  auto table = gslb::build_routing_table(
      *config, std::shared_ptr<const geo::Locator>(std::move(index).value()), 1);
  if (!table) {
    std::cerr << table.error().message << "\n";
    return 1;
  }
  IpNetwork ecs;
  if (!IpNetwork::parse(options.ecs, ecs)) {
    std::cerr << "answer_bench: bad ECS network " << options.ecs << "\n";
    return 2;
  }

  std::vector<Kind> kinds;
  kinds.push_back({"static name (" + options.static_name + " A)",
                   make_query(options.static_name, nullptr),
                   {}});
  kinds.push_back({"service name (" + options.service_name + " A, no ECS)",
                   make_query(options.service_name, nullptr),
                   {}});
  kinds.push_back({"service name (" + options.service_name + " A, ECS " + options.ecs + ")",
                   make_query(options.service_name, &ecs),
                   {}});

  const dns::Answerer answerer(dns::AnswererSettings{});
  auto stats = std::make_unique<dns::QueryStats>();
  Rng rng(1);
  dns::QueryContext context;
  IpAddress::parse("127.0.0.1", context.source);
  context.rng = &rng;
  std::vector<std::uint8_t> response(dns::kMaxUdpPayload);
  for (Kind& kind : kinds) {
    if (answerer.answer(**table, context, kind.query, response, *stats) == 0) {
      std::cerr << "answer_bench: no answer for " << kind.label << "\n";
      return 1;
    }
  }

  std::size_t sink = 0;
  for (int round = 0; round < options.rounds; ++round) {
    for (Kind& kind : kinds) {
      const auto start = BenchClock::now();
      for (int i = 0; i < options.queries_per_round; ++i) {
        sink += answerer.answer(**table, context, kind.query, response, *stats);
      }
      const std::chrono::duration<double, std::nano> took = BenchClock::now() - start;
      kind.ns_per_query.push_back(took.count() / options.queries_per_round);
    }
  }

  std::printf("%-52s %12s %14s\n", "query (answerer only, one thread)", "ns/query", "queries/s");
  const double static_ns = median(kinds[0].ns_per_query);
  for (const Kind& kind : kinds) {
    const double ns = median(kind.ns_per_query);
    std::printf("%-52s %12.0f %14.0f\n", kind.label.c_str(), ns, 1e9 / ns);
  }
  std::printf("\n");
  for (std::size_t i = 1; i < kinds.size(); ++i) {
    const double ns = median(kinds[i].ns_per_query);
    std::printf("%-52s %+.0f ns per query against the static name (%.0f%% of its cost)\n",
                kinds[i].label.c_str(), ns - static_ns, ns / static_ns * 100);
  }
  return sink == 0 ? 1 : 0;
}
