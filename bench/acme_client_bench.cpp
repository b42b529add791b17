// CPU of the ACME client alone per issued certificate (issue #3): JWS, certificate
// key, CSR, chain parsing and TLS to the CA over reused connections. The CA runs in
// its own process (pebble with PEBBLE_VA_ALWAYS_VALID=1, so no HTTP-01 responder is
// needed and none is counted); this process's getrusage() covers only the client.
//
// Usage: acme_client_bench DIRECTORY_URL CA_BUNDLE CERTS IN_FLIGHT
// Prints one JSON object: certs, failed, wall_s, cpu_ms_per_cert, connections_opened.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <sys/resource.h>

#include "protocol/acme/issuance.hpp"

namespace asio = boost::asio;
using namespace certfleet::protocol;
using certfleet::key_type;
using certfleet::result;

namespace {

// Pebble validates nothing with PEBBLE_VA_ALWAYS_VALID=1: nothing to publish.
struct no_publisher final : challenge_publisher {
  void publish(const std::string&, const std::string&) override {}
  void withdraw(const std::string&) override {}
  void publish_alpn(const std::string&, const std::string&, const std::string&) override {}
  void withdraw_alpn(const std::string&) override {}
  boost::asio::awaitable<void> shared(std::string, std::string) override { co_return; }
};

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

struct run_state {
  acme_client* client;
  no_publisher publisher;
  int next = 0;
  int total = 0;
  int issued = 0;
  int failed = 0;
  std::string first_error;
};

// One of IN_FLIGHT workers: issues certificates for consecutive names until done.
asio::awaitable<void> worker(run_state& state) {
  while (state.next < state.total) {
    const int n = state.next++;
    issuance_request request{{"c" + std::to_string(n) + ".bench.test"}};
    auto cert = co_await issue_certificate(
        *state.client, state.publisher, std::move(request),
        [](issuance_stage, const std::string&,
           const std::string&) -> asio::awaitable<result<void>> { co_return result<void>{}; });
    if (cert) {
      ++state.issued;
    } else {
      if (state.failed++ == 0) state.first_error = cert.err().detail;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: acme_client_bench DIRECTORY_URL CA_BUNDLE CERTS IN_FLIGHT\n";
    return 2;
  }
  const std::string directory_url = argv[1];
  const int certs = std::stoi(argv[3]);
  const int in_flight = std::stoi(argv[4]);

  asio::io_context io;
  http_client http(io.get_executor(), {.ca_bundle = argv[2]});
  acme_client client(http, directory_url);

  auto key = private_key::generate(key_type::ec_p256);
  auto account =
      asio::co_spawn(io,
                     client.new_account(std::make_shared<const private_key>(std::move(key.value())),
                                        "bench@example.com", true),
                     asio::use_future);
  io.run();
  if (auto url = account.get(); !url) {
    std::cerr << "acme_client_bench: creating the account failed: " << url.err().detail << "\n";
    return 1;
  }
  io.restart();

  run_state state{&client};
  state.total = certs;
  const double cpu_before = cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  for (int i = 0; i < in_flight; ++i) asio::co_spawn(io, worker(state), asio::detached);
  io.run();
  const double cpu = cpu_seconds() - cpu_before;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();

  std::printf(
      "{\"certs\": %d, \"failed\": %d, \"wall_s\": %.3f, \"cpu_ms_per_cert\": %.3f, "
      "\"connections_opened\": %zu}\n",
      state.issued, state.failed, wall, state.issued ? cpu * 1000 / state.issued : 0.0,
      http.connections_opened());
  if (state.failed) std::cerr << "acme_client_bench: first failure: " << state.first_error << "\n";
  return state.failed ? 1 : 0;
}
