#include "admin/routes.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "admin/status_page.hpp"

namespace certfleet::admin {
namespace {

bool same_secret(std::string_view given, const std::string& token) {
  return given.size() == token.size() &&
         CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

// "Basic base64(user:password)": a browser's login prompt, any user name and the token as the
// password.
std::string basic_password(std::string_view authorization) {
  constexpr std::string_view scheme = "Basic ";
  if (authorization.substr(0, scheme.size()) != scheme) return {};
  const std::string_view encoded = authorization.substr(scheme.size());
  if (encoded.empty() || encoded.size() > 1024 || encoded.size() % 4 != 0) return {};
  std::string decoded(encoded.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                reinterpret_cast<const unsigned char*>(encoded.data()),
                                static_cast<int>(encoded.size()));
  if (n < 0) return {};
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts the padding's zero bytes.
  if (encoded.ends_with("=="))
    size -= 2;
  else if (encoded.ends_with("="))
    size -= 1;
  decoded.resize(size);
  const auto colon = decoded.find(':');
  return colon == std::string::npos ? std::string() : decoded.substr(colon + 1);
}

// Compared in constant time: the token guards the pages from other hosts. Prometheus sends it
// as a bearer token, a browser as the password of its login prompt.
bool carries_token(const protocol::plain_request& request, const std::string& token) {
  constexpr std::string_view bearer = "Bearer ";
  const std::string_view given = request.authorization;
  if (given.substr(0, bearer.size()) == bearer)
    return same_secret(given.substr(bearer.size()), token);
  const std::string password = basic_password(given);
  return !password.empty() && same_secret(password, token);
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

// No script, no outside resource: the page's inline style and SVG are all it may use.
const std::pair<std::string, std::string> page_policy = {
    "Content-Security-Policy",
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "frame-ancestors 'none'"};

struct scanned {
  fleet_summary fleet;
  domain_page page;
  std::map<std::string, std::int64_t> places;  ///< of the page's queued rows
};

scanned scan(const admin_sources& sources, const domain_query& query, timestamp now) {
  scanned out;
  sources.for_each_domain([&](const storage::domain_record& r) {
    out.fleet.add(r, now);
    out.page.add(query, r, now);
  });
  std::vector<std::string> queued;
  for (const auto& r : out.page.rows)
    if (r.phase == storage::domain_phase::queued) queued.push_back(r.name);
  if (!queued.empty() && sources.queue_places) {
    const auto places = sources.queue_places(queued);
    for (std::size_t i = 0; i < queued.size() && i < places.size(); ++i)
      out.places[queued[i]] = places[i];
  }
  return out;
}

}  // namespace

fleet_summary summarize(const admin_sources& sources, timestamp now) {
  fleet_summary fleet;
  sources.for_each_domain([&](const storage::domain_record& r) { fleet.add(r, now); });
  return fleet;
}

protocol::plain_response answer_admin(const protocol::plain_request& request,
                                      const admin_sources& sources) {
  if (!sources.token.empty() && !carries_token(request, sources.token))
    return {401,
            "text/plain; charset=utf-8",
            "These pages need the token of admin_token_file: send it as \"Authorization: Bearer "
            "TOKEN\" (Prometheus: authorization.credentials_file), or give it as the password "
            "when the browser asks (any user name).\n",
            {{"WWW-Authenticate", "Basic realm=\"certfleet\", charset=\"UTF-8\""}}};
  const std::string path = path_of(request.target);
  const timestamp now = sources.now();
  if (path == "/metrics")
    return {200, metrics_content_type,
            render_metrics(summarize(sources, now), sources.orders(), metrics::global(), now)};
  if (path == "/" || path == "/api/domains") {
    const domain_query query = parse_domain_query(request.target);
    const scanned s = scan(sources, query, now);
    if (path == "/api/domains")
      return {200, "application/json", render_domains_json(query, s.page, now, s.places)};
    const order_gauges orders = sources.orders();
    return {200,
            "text/html; charset=utf-8",
            render_status_html({s.fleet, orders, query, s.page, now, sources.node, s.places}),
            {page_policy}};
  }
  if (path == "/api/summary")
    return {200, "application/json",
            render_summary_json(summarize(sources, now), sources.orders(), now)};
  return {404, "text/plain; charset=utf-8",
          "Not found. This listener serves / (the status page), /api/summary, /api/domains and "
          "/metrics.\n"};
}

}  // namespace certfleet::admin
