#include "protocol/acme/types.hpp"

#include <nlohmann/json.hpp>

namespace certfleet::protocol {
namespace {

using json = nlohmann::json;

error bad(std::string_view what, std::string_view why) {
  return error{error_kind::bad_response,
               "the CA sent an unusable " + std::string(what) + ": " + std::string(why) +
                   "; check acme_directory_url points to an RFC 8555 ACME server",
               true};
}

// Parses JSON without exceptions escaping; nullopt on malformed input.
std::optional<json> parse_object(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::string string_member(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

result<acme_directory> parse_directory(std::string_view body) {
  auto j = parse_object(body);
  if (!j) return bad("directory", "it is not a JSON object");
  acme_directory d;
  d.new_nonce = string_member(*j, "newNonce");
  d.new_account = string_member(*j, "newAccount");
  d.new_order = string_member(*j, "newOrder");
  d.revoke_cert = string_member(*j, "revokeCert");
  d.key_change = string_member(*j, "keyChange");
  if (auto meta = j->find("meta"); meta != j->end() && meta->is_object()) {
    auto tos = string_member(*meta, "termsOfService");
    if (!tos.empty()) d.terms_of_service = tos;
    if (auto profiles = meta->find("profiles"); profiles != meta->end() && profiles->is_object()) {
      for (const auto& [name, about] : profiles->items())
        d.profiles[name] = about.is_string() ? about.get<std::string>() : std::string();
    }
    if (auto eab = meta->find("externalAccountRequired"); eab != meta->end() && eab->is_boolean())
      d.external_account_required = eab->get<bool>();
  }
  d.renewal_info = string_member(*j, "renewalInfo");
  if (d.new_nonce.empty() || d.new_account.empty() || d.new_order.empty())
    return bad("directory", "newNonce, newAccount or newOrder is missing");
  return d;
}

result<acme_order> parse_order(std::string_view url, std::string_view body) {
  auto j = parse_object(body);
  if (!j) return bad("order", "it is not a JSON object");
  acme_order o;
  o.url = url;
  o.status = string_member(*j, "status");
  o.finalize = string_member(*j, "finalize");
  o.certificate = string_member(*j, "certificate");
  if (auto ids = j->find("identifiers"); ids != j->end() && ids->is_array()) {
    for (const auto& id : *ids)
      if (id.is_object()) o.identifiers.push_back(string_member(id, "value"));
  }
  if (auto authz = j->find("authorizations"); authz != j->end() && authz->is_array()) {
    for (const auto& a : *authz)
      if (a.is_string()) o.authorizations.push_back(a.get<std::string>());
  }
  if (o.status.empty()) return bad("order", "it has no status");
  if (o.finalize.empty()) return bad("order", "it has no finalize URL");
  return o;
}

namespace {

// A challenge object as it appears inside an authorization or on its own URL.
acme_challenge challenge_from(const json& c) {
  acme_challenge ch{string_member(c, "type"),
                    string_member(c, "url"),
                    string_member(c, "token"),
                    string_member(c, "status"),
                    {}};
  if (auto e = c.find("error"); e != c.end() && e->is_object())
    ch.error_detail = string_member(*e, "detail");
  return ch;
}

}  // namespace

result<acme_authorization> parse_authorization(std::string_view url, std::string_view body) {
  auto j = parse_object(body);
  if (!j) return bad("authorization", "it is not a JSON object");
  acme_authorization a;
  a.url = url;
  a.status = string_member(*j, "status");
  if (auto id = j->find("identifier"); id != j->end() && id->is_object())
    a.identifier = string_member(*id, "value");
  if (auto chs = j->find("challenges"); chs != j->end() && chs->is_array()) {
    for (const auto& c : *chs) {
      if (!c.is_object()) continue;
      a.challenges.push_back(challenge_from(c));
      if (!a.challenges.back().error_detail.empty())
        a.error_detail = a.challenges.back().error_detail;
    }
  }
  if (a.status.empty()) return bad("authorization", "it has no status");
  return a;
}

result<acme_challenge> parse_challenge(std::string_view url, std::string_view body) {
  auto j = parse_object(body);
  if (!j) return bad("challenge", "it is not a JSON object");
  acme_challenge c = challenge_from(*j);
  if (c.url.empty()) c.url = url;
  if (c.status.empty()) return bad("challenge", "it has no status");
  return c;
}

result<void> check_profile(const acme_directory& dir, std::string_view directory_url,
                           std::string_view profile) {
  if (dir.profiles.count(std::string(profile))) return {};
  const std::string ca = "the CA at " + std::string(directory_url);
  if (dir.profiles.empty())
    return error{error_kind::config,
                 ca + " offers no certificate profiles (its directory lists none); remove "
                      "lets_encrypt_profile to get the CA's default certificates"};
  std::string offered;
  for (const auto& [name, about] : dir.profiles) offered += (offered.empty() ? "" : ", ") + name;
  return error{error_kind::config,
               ca + " offers no profile \"" + std::string(profile) + "\"; it offers: " + offered};
}

}  // namespace certfleet::protocol
