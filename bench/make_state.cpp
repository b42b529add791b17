// Builds the state of a large, settled fleet without a CA, for the idle-scale benchmarks:
// N domain records in phase valid (certificate issued a day ago, valid 90 days, next attempt at
// its renewal point), a stored certificate pair of realistic size for each, and a matching
// url_domains file. With --reload K it also writes url_domains.reload: the same list without
// the first K names and with K new ones (a reload that removes K and adds K).
//
// Usage: make_state STATE_DIR CONF_DIR N [--reload K] [--no-certs]
//   names are d000000.idle.test ... ; the new names of the reload are n000000.idle.test ...
// Prints one line: how long writing took and the size of the environment.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "actors/renewal_policy.hpp"
#include "storage/store.hpp"

using namespace certfleet;
using namespace certfleet::storage;

namespace {

std::string name_of(char prefix, std::size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%06zu.idle.test", prefix, i);
  return buf;
}

// A PEM-shaped blob of about the size of the real thing (the daemon never parses stored
// certificates at start-up; only the bytes matter for the size of the environment).
std::string fake_pem(const char* label, std::size_t body_bytes, std::size_t seed) {
  static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s = std::string("-----BEGIN ") + label + "-----\n";
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (std::size_t i = 0; i < body_bytes; ++i) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += b64[x & 63];
    if (i % 64 == 63) s += '\n';
  }
  return s + "\n-----END " + label + "-----\n";
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "make_state: %s\n", what.c_str());
  std::exit(1);
}

void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::ofstream f(p);
  for (const auto& l : lines) f << l << '\n';
  if (!f) die("cannot write " + p.string());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) die("usage: make_state STATE_DIR CONF_DIR N [--reload K] [--no-certs]");
  const std::filesystem::path state_dir = argv[1], conf_dir = argv[2];
  const std::size_t n = std::strtoull(argv[3], nullptr, 10);
  std::size_t reload = 0;
  bool certs = true;
  for (int i = 4; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--reload" && i + 1 < argc)
      reload = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--no-certs")
      certs = false;
    else
      die("unknown argument " + a);
  }
  if (reload > n) die("--reload K must not exceed N");

  auto t0 = std::chrono::steady_clock::now();
  std::filesystem::create_directories(conf_dir);
  auto opened = store::open(state_dir, open_mode::read_write);
  if (!opened) die("open " + state_dir.string() + ": " + opened.err().detail);
  store s = std::move(opened).value();

  const timestamp now = wall_clock{}.now();
  const timestamp not_before = now - std::chrono::days{1};
  const timestamp not_after = not_before + std::chrono::days{90};
  std::vector<std::string> names;
  names.reserve(n);
  constexpr std::size_t per_txn = 10'000;
  for (std::size_t start = 0; start < n; start += per_txn) {
    write_batch b;
    for (std::size_t i = start; i < std::min(n, start + per_txn); ++i) {
      domain_record d;
      d.name = name_of('d', i);
      d.phase = domain_phase::valid;
      d.configured = true;
      d.cert_not_before = not_before;
      d.cert_not_after = not_after;
      d.last_success = not_before;
      d.next_attempt = actors::renewal_point(not_before, not_after, d.name);
      if (certs) {
        cert_pair p;
        p.current.domain = d.name;
        // Leaf + one intermediate (~1.9 KB PEM) and a P-256 PKCS#8 key (~240 B).
        p.current.chain_pem =
            fake_pem("CERTIFICATE", 760, i) + fake_pem("CERTIFICATE", 1050, i + n);
        p.current.key_pem = fake_pem("PRIVATE KEY", 184, i + 2 * n);
        p.current.not_before = not_before;
        p.current.not_after = not_after;
        p.current.serial = "0badc0de" + std::to_string(i);
        b.put_certs.push_back(std::move(p));
      }
      names.push_back(d.name);
      b.put_domains.push_back(std::move(d));
    }
    if (auto r = s.commit(b); !r) die("commit: " + r.err().detail);
  }
  write_lines(conf_dir / "url_domains", names);
  if (reload > 0) {
    std::vector<std::string> next(names.begin() + static_cast<std::ptrdiff_t>(reload), names.end());
    for (std::size_t i = 0; i < reload; ++i) next.push_back(name_of('n', i));
    write_lines(conf_dir / "url_domains.reload", next);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto st = s.stats();
  std::printf("make_state: %zu valid domains%s in %.2f s; data.mdb %.1f MiB\n", n,
              certs ? " with certificates" : "", secs,
              st ? static_cast<double>(st->file_size) / (1 << 20) : -1.0);
  return 0;
}
