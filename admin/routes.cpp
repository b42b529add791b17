#include "admin/routes.hpp"

#include <openssl/crypto.h>

namespace certfleet::admin {
namespace {

// Compared in constant time: the token guards the page from other hosts.
bool carries_token(const protocol::plain_request& request, const std::string& token) {
  const std::string expected = "Bearer " + token;
  return request.authorization.size() == expected.size() &&
         CRYPTO_memcmp(request.authorization.data(), expected.data(), expected.size()) == 0;
}

std::string path_of(const std::string& target) { return target.substr(0, target.find('?')); }

}  // namespace

protocol::plain_response answer_admin(const protocol::plain_request& request,
                                      const admin_sources& sources) {
  if (!sources.token.empty() && !carries_token(request, sources.token))
    return {401, "text/plain; charset=utf-8",
            "This page needs the token of admin_token_file: send it as \"Authorization: Bearer "
            "TOKEN\" (Prometheus: authorization.credentials_file).\n"};
  const std::string path = path_of(request.target);
  if (path == "/metrics")
    return {200, metrics_content_type,
            render_metrics(sources.fleet(), sources.orders(), metrics::global(), sources.now())};
  if (path == "/") return {200, "text/plain; charset=utf-8", "certfleetd admin: /metrics\n"};
  return {404, "text/plain; charset=utf-8", "Not found. This listener serves /metrics.\n"};
}

}  // namespace certfleet::admin
