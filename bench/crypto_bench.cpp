// How much CPU does the crypto of one ACME issuance cost? Per certificate certfleet
// generates a key, builds a CSR and signs ~6-10 JWS requests; at 100k domains these
// figures bound how fast a renewal wave can go on one core.

#include <benchmark/benchmark.h>

#include "protocol/acme/jws.hpp"
#include "protocol/crypto/crypto.hpp"

namespace {

using namespace certfleet::protocol;
using certfleet::key_type;

const nlohmann::json order_payload = {
    {"identifiers", {{{"type", "dns"}, {"value", "www.example.com"}}}}};
const std::optional<std::string> kid = "https://ca.example/acme/acct/123456789";
const std::string url = "https://ca.example/acme/new-order";
const std::string nonce = "oFvnlFP1wIhRlYS2jTaXbA";

void BM_P256Keygen(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(private_key::generate(key_type::ec_p256));
}
BENCHMARK(BM_P256Keygen);

void BM_CsrP256(benchmark::State& state) {
  const auto key = private_key::generate(key_type::ec_p256).value();
  std::vector<std::string> domains;
  for (int i = 0; i < state.range(0); ++i)
    domains.push_back("d" + std::to_string(i) + ".example.com");
  for (auto _ : state) benchmark::DoNotOptimize(make_csr_der(key, domains));
}
BENCHMARK(BM_CsrP256)->Arg(1)->Arg(100);

// Storing and loading a certificate key (OpenSSL 3's encoder/decoder path).
void BM_P256ToPem(benchmark::State& state) {
  const auto key = private_key::generate(key_type::ec_p256).value();
  for (auto _ : state) benchmark::DoNotOptimize(key.to_pem());
}
BENCHMARK(BM_P256ToPem);

void BM_P256FromPem(benchmark::State& state) {
  const std::string pem = private_key::generate(key_type::ec_p256).value().to_pem();
  for (auto _ : state) benchmark::DoNotOptimize(private_key::from_pem(pem));
}
BENCHMARK(BM_P256FromPem);

void sign_with_signer(benchmark::State& state, key_type type) {
  const auto key = private_key::generate(type).value();
  const jws_signer signer(key);
  for (auto _ : state) benchmark::DoNotOptimize(signer.sign(url, nonce, kid, order_payload));
}

void BM_JwsSignES256(benchmark::State& state) { sign_with_signer(state, key_type::ec_p256); }
BENCHMARK(BM_JwsSignES256);

void BM_JwsSignRS256_2048(benchmark::State& state) { sign_with_signer(state, key_type::rsa2048); }
BENCHMARK(BM_JwsSignRS256_2048);

// The uncached one-off form, with and without the JWK in the header.
void BM_SignJwsES256(benchmark::State& state) {
  const auto key = private_key::generate(key_type::ec_p256).value();
  const std::optional<std::string> maybe_kid = state.range(0) ? kid : std::nullopt;
  for (auto _ : state)
    benchmark::DoNotOptimize(sign_jws(key, url, nonce, maybe_kid, order_payload));
}
BENCHMARK(BM_SignJwsES256)->ArgName("kid")->Arg(1)->Arg(0);

}  // namespace

BENCHMARK_MAIN();
