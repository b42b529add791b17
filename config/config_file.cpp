#include "config/config_file.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>

#include "config/domain_name.hpp"
#include "config/text_file.hpp"

namespace certfleet::config {
namespace {

using reason = std::optional<std::string>;  // why a value is refused; nullopt when accepted

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// The value after the directive name, without a trailing comment; checks quotes balance.
result<std::string_view> strip_comment(std::string_view rest) {
  bool in_quote = false;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const char c = rest[i];
    if (in_quote) {
      if (c == '\\' && i + 1 < rest.size())
        ++i;
      else if (c == '"')
        in_quote = false;
    } else if (c == '"') {
      in_quote = true;
    } else if (c == '#' && (i == 0 || is_blank(rest[i - 1]))) {
      return trim_blanks(rest.substr(0, i));
    }
  }
  if (in_quote) {
    return error{error_kind::config, "a double quote is not closed; end the value with '\"'"};
  }
  return trim_blanks(rest);
}

// Reads the quoted word starting at text[pos] == '"'; advances pos past its closing quote.
std::string read_quoted(std::string_view text, std::size_t& pos) {
  std::string word;
  for (++pos; pos < text.size() && text[pos] != '"'; ++pos) {
    if (text[pos] == '\\' && pos + 1 < text.size()) ++pos;
    word += text[pos];
  }
  ++pos;  // strip_comment has checked that the quote is closed
  return word;
}

// A single value: the text as written, or the content of one quoted string.
result<std::string> scalar(std::string_view value) {
  if (value.empty() || value.front() != '"') return std::string(value);
  std::size_t pos = 0;
  std::string word = read_quoted(value, pos);
  if (pos < value.size()) {
    return error{error_kind::config,
                 "unexpected text after the closing quote; quote the whole value"};
  }
  return word;
}

// A list value: words separated by blanks, each optionally quoted.
result<std::vector<std::string>> words(std::string_view value) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < value.size()) {
    if (is_blank(value[pos])) {
      ++pos;
    } else if (value[pos] == '"') {
      out.push_back(read_quoted(value, pos));
      if (pos < value.size() && !is_blank(value[pos])) {
        return error{error_kind::config, "a closing quote must be followed by a space"};
      }
    } else {
      const std::size_t end = std::min(value.find_first_of(" \t", pos), value.size());
      out.emplace_back(value.substr(pos, end - pos));
      pos = end;
    }
  }
  return out;
}

reason set_bool(bool& out, std::string_view value) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  const auto b = parse_yes_no(*text);
  if (!b) return std::string("expected \"yes\" or \"no\"");
  out = *b;
  return std::nullopt;
}

reason set_path(std::filesystem::path& out, std::string_view value, bool may_be_empty) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  if (text->empty() && may_be_empty) {
    out.clear();
    return std::nullopt;
  }
  if (text->empty() || text->front() != '/') return std::string("expected an absolute path");
  out = *text;
  return std::nullopt;
}

template <class T, class Parse>
reason set_parsed(T& out, std::string_view value, Parse parse) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  auto parsed = parse(*text);
  if (!parsed) return parsed.err().detail;
  out = std::move(*parsed);
  return std::nullopt;
}

// An optional host:port: "" (quoted) unsets it.
reason set_optional_address(std::optional<host_port>& out, std::string_view value,
                            result<host_port> (*parse)(std::string_view)) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  if (text->empty()) {
    out.reset();
    return std::nullopt;
  }
  auto parsed = parse(*text);
  if (!parsed) return parsed.err().detail;
  out = *parsed;
  return std::nullopt;
}

reason set_key_type(settings& s, std::string_view value) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  auto type = parse_key_type(*text);
  if (!type) return "expected one of " + std::string(key_type_names());
  s.key_type = *type;
  return std::nullopt;
}

reason set_order_budget(settings& s, std::string_view value) {
  static const std::string form = "expected \"N per DURATION\", e.g. \"300 per 3h\"";
  auto parts = words(value);
  if (!parts) return parts.err().detail;
  if (parts->size() != 3 || (*parts)[1] != "per") return form;
  auto n = parse_bounded((*parts)[0], 1, 1000000);
  if (!n) return n.err().detail + " for N; " + form;
  auto per = parse_duration((*parts)[2]);
  if (!per) return per.err().detail;
  s.order_budget = {static_cast<std::uint32_t>(*n), *per};
  return std::nullopt;
}

reason set_command(std::string& out, std::string_view value) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  out = *text;
  return std::nullopt;
}

reason set_hook_timeout(std::chrono::seconds& out, std::string_view value) {
  return set_parsed(out, value, [](std::string_view t) -> result<std::chrono::seconds> {
    auto d = parse_duration(t);
    if (d && *d > std::chrono::hours(24))
      return error{error_kind::config, "expected at most one day (86400 seconds)"};
    return d;
  });
}

reason set_rate_limits(settings& s, std::string_view value) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  if (*text == "auto") {
    s.acme_rate_limits = ca_rate_limits::automatic;
  } else if (*text == "lets_encrypt") {
    s.acme_rate_limits = ca_rate_limits::lets_encrypt;
  } else if (*text == "none") {
    s.acme_rate_limits = ca_rate_limits::none;
  } else {
    return std::string("expected auto, lets_encrypt or none");
  }
  return std::nullopt;
}

reason set_certificate_files(settings& s, std::string_view value) {
  static const std::string form = "expected two absolute paths: \"CERT_PATH KEY_PATH\"";
  auto parts = words(value);
  if (!parts) return parts.err().detail;
  if (parts->size() != 2) return form;
  for (const std::string& p : *parts) {
    if (p.empty() || p.front() != '/') return form;
  }
  s.tls_certificate_files = certificate_files{(*parts)[0], (*parts)[1]};
  return std::nullopt;
}

reason add_auto_generate(settings& s, std::string_view value) {
  auto parts = words(value);
  if (!parts) return parts.err().detail;
  for (const std::string& raw : *parts) {
    auto name = normalize_domain(raw);
    if (!name) return name.err().detail;
    auto& list = s.tls_certificate_auto_generate;
    if (std::find(list.begin(), list.end(), *name) == list.end()) list.push_back(*name);
  }
  return std::nullopt;
}

reason set_dns_servers(settings& s, std::string_view value) {
  auto parts = words(value);
  if (!parts) return parts.err().detail;
  std::vector<host_port> servers;
  for (const std::string& raw : *parts) {
    auto server = parse_dns_server(raw);
    if (!server) return server.err().detail;
    servers.push_back(*server);
  }
  s.dns_servers = std::move(servers);
  return std::nullopt;
}

reason set_etcd_endpoints(settings& s, std::string_view value) {
  auto parts = words(value);
  if (!parts) return parts.err().detail;
  std::vector<std::string> endpoints;
  for (const std::string& raw : *parts) {
    auto endpoint = parse_etcd_endpoint(raw);
    if (!endpoint) return endpoint.err().detail;
    endpoints.push_back(*endpoint);
  }
  if (endpoints.empty()) return std::string("expected one or more etcd client URLs");
  s.cluster.etcd_endpoints = std::move(endpoints);
  return std::nullopt;
}

// Profile names are the CA's (Let's Encrypt: classic, tlsserver, shortlived): a token, so a
// typo with a blank or a quote is caught here rather than by the CA.
reason set_profile_name(std::string& out, std::string_view value) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  const bool token =
      !text->empty() && text->size() <= 64 && std::all_of(text->begin(), text->end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!token)
    return std::string(
        "expected the name of one of the CA's profiles (letters, digits, '-', '_', '.'; at most "
        "64), e.g. tlsserver");
  out = *text;
  return std::nullopt;
}

reason set_https_url(std::string& out, std::string_view value) {
  auto text = scalar(value);
  if (!text) return text.err().detail;
  const std::string_view scheme = "https://";
  if (text->rfind(scheme, 0) != 0 || text->size() == scheme.size() ||
      text->find_first_of(" \t") != std::string::npos) {
    return std::string(
        "expected an https:// URL, e.g. https://acme-v02.api.letsencrypt.org/directory");
  }
  out = *text;
  return std::nullopt;
}

reason set_eab_kid(std::string& out, std::string_view value) {
  auto text = scalar(value);
  if (!text) return reason(text.err().detail);
  if (text->empty() || text->find_first_of(" \t") != std::string::npos)
    return reason("expected the key identifier your CA gave you");
  out = *text;
  return reason();
}

reason set_eab_hmac_key(std::string& out, std::string_view value) {
  auto text = scalar(value);
  if (!text) return reason("expected the base64url HMAC key your CA gave you");
  const bool base64url = !text->empty() && std::all_of(text->begin(), text->end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
  if (!base64url)
    return reason(
        "expected the base64url HMAC key your CA gave you (letters, digits, '-' and '_'; no "
        "padding)");
  out = *text;
  return reason();
}

struct directive_spec {
  std::string_view name;
  bool repeatable;  // values accumulate instead of being a duplicate
  reason (*apply)(settings&, std::string_view value);
  bool secret = false;  // its value never appears in a diagnostic
};

const std::vector<directive_spec>& specs() {
  static const std::vector<directive_spec> table = {
      {"lets_encrypt_agree_to_terms_of_service", false,
       [](settings& s, std::string_view v) {
         return set_bool(s.lets_encrypt_agree_to_terms_of_service, v);
       }},
      {"lets_encrypt_registration_email", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.lets_encrypt_registration_email, v, parse_email);
       }},
      {"url_domains_get_lets_encrypt_certs", false,
       [](settings& s, std::string_view v) {
         return set_bool(s.url_domains_get_lets_encrypt_certs, v);
       }},
      {"url_domains_always_use_tls", false,
       [](settings& s, std::string_view v) { return set_bool(s.url_domains_always_use_tls, v); }},
      {"tls_certificate_files", false, set_certificate_files},
      {"tls_certificate_auto_generate", true, add_auto_generate},
      {"lets_encrypt_certs_self_check", false,
       [](settings& s, std::string_view v) {
         return set_bool(s.lets_encrypt_certs_self_check, v);
       }},
      {"acme_directory_url", false,
       [](settings& s, std::string_view v) { return set_https_url(s.acme_directory_url, v); }},
      {"acme_ca_bundle", false,
       [](settings& s, std::string_view v) { return set_path(s.acme_ca_bundle, v, true); }},
      {"http_listen", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.http_listen, v, parse_listen_address);
       }},
      {"https_listen", false,
       [](settings& s, std::string_view v) {
         return set_optional_address(s.https_listen, v, parse_listen_address);
       }},
      {"admin_listen", false,
       [](settings& s, std::string_view v) {
         return set_optional_address(s.admin_listen, v, parse_listen_address);
       }},
      {"admin_token_file", false,
       [](settings& s, std::string_view v) { return set_path(s.admin_token_file, v, true); }},
      {"challenge_type", false,
       [](settings& s, std::string_view v) {
         auto text = scalar(v);
         if (!text) return reason(text.err().detail);
         if (*text == "http-01")
           s.challenge_type = settings::challenge::http_01;
         else if (*text == "tls-alpn-01")
           s.challenge_type = settings::challenge::tls_alpn_01;
         else
           return reason("expected http-01 or tls-alpn-01");
         return reason();
       }},
      {"self_check_tls_port", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.self_check_tls_port, v, parse_port);
       }},
      {"self_check_port", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.self_check_port, v, parse_port);
       }},
      {"dns_servers", false, set_dns_servers},
      {"state_dir", false,
       [](settings& s, std::string_view v) { return set_path(s.state_dir, v, false); }},
      {"key_type", false, set_key_type},
      {"orders_in_flight", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.orders_in_flight, v,
                           [](std::string_view t) { return parse_bounded(t, 1, 256); });
       }},
      {"order_budget", false, set_order_budget},
      {"acme_rate_limits", false, set_rate_limits},
      {"lets_encrypt_profile", false,
       [](settings& s, std::string_view v) { return set_profile_name(s.lets_encrypt_profile, v); }},
      {"acme_eab_kid", false,
       [](settings& s, std::string_view v) { return set_eab_kid(s.acme_eab_kid, v); }},
      {"acme_eab_hmac_key", false,
       [](settings& s, std::string_view v) { return set_eab_hmac_key(s.acme_eab_hmac_key, v); },
       true},
      {"acme_fallback_directory_url", false,
       [](settings& s, std::string_view v) {
         return set_https_url(s.acme_fallback.directory_url, v);
       }},
      {"acme_fallback_ca_bundle", false,
       [](settings& s, std::string_view v) {
         return set_path(s.acme_fallback.ca_bundle, v, true);
       }},
      {"acme_fallback_profile", false,
       [](settings& s, std::string_view v) {
         return set_profile_name(s.acme_fallback.profile, v);
       }},
      {"acme_fallback_eab_kid", false,
       [](settings& s, std::string_view v) { return set_eab_kid(s.acme_fallback.eab_kid, v); }},
      {"acme_fallback_eab_hmac_key", false,
       [](settings& s, std::string_view v) {
         return set_eab_hmac_key(s.acme_fallback.eab_hmac_key, v);
       },
       true},
      {"acme_fallback_after", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.acme_fallback.after, v,
                           [](std::string_view t) { return parse_bounded(t, 1, 100); });
       }},
      {"export_dir", false,
       [](settings& s, std::string_view v) { return set_path(s.export_dir, v, true); }},
      {"deploy_hook", false,
       [](settings& s, std::string_view v) { return set_command(s.deploy_hook, v); }},
      {"deploy_hook_timeout", false,
       [](settings& s, std::string_view v) { return set_hook_timeout(s.deploy_hook_timeout, v); }},
      {"warning_hook", false,
       [](settings& s, std::string_view v) { return set_command(s.warning_hook, v); }},
      {"warning_hook_timeout", false,
       [](settings& s, std::string_view v) { return set_hook_timeout(s.warning_hook_timeout, v); }},
      {"expiry_alert_days", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.expiry_alert_days, v,
                           [](std::string_view t) -> result<std::chrono::days> {
                             auto n = parse_bounded(t, 0, 365);
                             if (!n) return std::move(n).err();
                             return std::chrono::days(*n);
                           });
       }},
      {"http_upstream", false,
       [](settings& s, std::string_view v) {
         return set_optional_address(s.http_upstream, v, parse_host_port);
       }},
      {"cluster_etcd_endpoints", false, set_etcd_endpoints},
      {"cluster_name", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.cluster.name, v, parse_node_name);
       }},
      {"node_name", false,
       [](settings& s, std::string_view v) {
         return set_parsed(s.cluster.node_name, v, parse_node_name);
       }},
      {"cluster_etcd_ca_file", false,
       [](settings& s, std::string_view v) { return set_path(s.cluster.etcd_ca_file, v, true); }},
      {"cluster_etcd_cert_file", false,
       [](settings& s, std::string_view v) { return set_path(s.cluster.etcd_cert_file, v, true); }},
      {"cluster_etcd_key_file", false,
       [](settings& s, std::string_view v) { return set_path(s.cluster.etcd_key_file, v, true); }},
      {"cluster_key_file", false,
       [](settings& s, std::string_view v) { return set_path(s.cluster.key_file, v, false); }},
      {"cluster_lease_ttl", false,
       [](settings& s, std::string_view v) {
         return set_parsed(
             s.cluster.lease_ttl, v, [](std::string_view t) -> result<std::chrono::seconds> {
               auto d = parse_duration(t);
               if (d && (*d < std::chrono::seconds(2) || *d > std::chrono::seconds(60)))
                 return error{
                     error_kind::config,
                     "expected 2 to 60 seconds (etcd's shortest lease is about 2 s; a long "
                     "one delays taking over a dead node's domains)"};
               return d;
             });
       }},
  };
  return table;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; });
  return out;
}

std::string unknown_directive_message(std::string_view name) {
  std::string message = "unknown directive " + quoted(name);
  // "state_dir=/x": the separator is a blank, not '='.
  const std::string_view before_eq = name.substr(0, name.find('='));
  for (const directive_spec& spec : specs()) {
    if (before_eq != name && spec.name == before_eq) {
      return message + "; separate the directive and its value with a space, not \"=\"";
    }
  }
  const std::string wanted = lower(name);
  const directive_spec* best = nullptr;
  std::size_t best_distance = 0;
  const auto close_enough = [](const directive_spec& spec) {
    return std::max<std::size_t>(2, spec.name.size() / 4);
  };
  for (const directive_spec& spec : specs()) {
    // The distance is at least the difference in length: skip names that cannot be close
    // (a 4 KB unknown name against every directive cost 1.6 s per MB of config, found by
    // the config_file fuzzer).
    const std::size_t length_gap = wanted.size() > spec.name.size()
                                       ? wanted.size() - spec.name.size()
                                       : spec.name.size() - wanted.size();
    if (length_gap > close_enough(spec)) continue;
    const std::size_t d = edit_distance(wanted, spec.name);
    if (best == nullptr || d < best_distance) {
      best = &spec;
      best_distance = d;
    }
  }
  if (best != nullptr && best_distance <= close_enough(*best)) {
    message += "; did you mean \"" + std::string(best->name) + "\"?";
  }
  return message;
}

}  // namespace

bool uses_lets_encrypt_limits(const settings& s) {
  switch (s.acme_rate_limits) {
    case ca_rate_limits::lets_encrypt:
      return true;
    case ca_rate_limits::none:
      return false;
    case ca_rate_limits::automatic:
      break;
  }
  // Production and staging (whose limits are higher: spending production's is safe).
  for (std::string_view host :
       {"https://acme-v02.api.letsencrypt.org/", "https://acme-staging-v02.api.letsencrypt.org/"}) {
    if (s.acme_directory_url.rfind(host, 0) == 0) return true;
  }
  return false;
}

const std::vector<std::string_view>& directive_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const directive_spec& spec : specs()) out.push_back(spec.name);
    return out;
  }();
  return names;
}

// The cluster directives belong together: endpoints make a cluster, which needs the
// cluster key; without endpoints the others would do nothing, so they are refused.
void check_cluster(const settings& s, std::map<std::string_view, int>& first_line, bool lines_read,
                   const std::function<void(int, std::string)>& fail) {
  if (!lines_read) return;
  const auto& c = s.cluster;
  if (c.etcd_endpoints.empty()) {
    for (const char* name :
         {"cluster_name", "node_name", "cluster_etcd_ca_file", "cluster_etcd_cert_file",
          "cluster_etcd_key_file", "cluster_key_file", "cluster_lease_ttl"}) {
      if (auto at = first_line.find(name); at != first_line.end())
        fail(at->second, std::string(name) +
                             " is set without cluster_etcd_endpoints; set the etcd members' URLs "
                             "too (docs/cluster.md), or remove this line");
    }
    return;
  }
  if (c.key_file.empty())
    fail(first_line["cluster_etcd_endpoints"],
         "cluster_etcd_endpoints needs cluster_key_file: the private keys kept in etcd are "
         "encrypted with it; create it on one node with `openssl rand -hex 32 > FILE && chmod "
         "600 FILE` and copy it to every node");
  if (c.etcd_cert_file.empty() != c.etcd_key_file.empty()) {
    const char* set = c.etcd_cert_file.empty() ? "cluster_etcd_key_file" : "cluster_etcd_cert_file";
    fail(first_line[set], std::string(set) +
                              " needs its pair: give both cluster_etcd_cert_file and "
                              "cluster_etcd_key_file, or neither");
  }
}

diagnosed<settings> parse_config_text(std::string_view text, std::string_view file_name) {
  diagnosed<settings> out;
  settings s;
  std::map<std::string_view, int> first_line;  // single-valued directive -> line it was set on
  const auto fail = [&](int line, std::string message) {
    out.errors.push_back({std::string(file_name), line, std::move(message)});
  };
  int line_no = 0;
  for (const std::string_view raw_line : split_lines(text)) {
    ++line_no;
    if (raw_line.size() > max_config_line_length) {
      fail(line_no,
           "line is longer than " + std::to_string(max_config_line_length) + " characters");
      continue;
    }
    const std::string_view line = trim_blanks(raw_line);
    if (line.empty() || line.front() == '#') continue;
    const std::size_t name_end = std::min(line.find_first_of(" \t"), line.size());
    const std::string_view name = line.substr(0, name_end);
    const auto spec = std::find_if(specs().begin(), specs().end(),
                                   [&](const directive_spec& d) { return d.name == name; });
    if (spec == specs().end()) {
      fail(line_no, unknown_directive_message(name));
      continue;
    }
    if (!spec->repeatable) {
      const auto [it, inserted] = first_line.emplace(spec->name, line_no);
      if (!inserted) {
        fail(line_no, "directive " + quoted(name) + " is set again; it was already set on line " +
                          std::to_string(it->second) + " (keep only one of the two lines)");
        continue;
      }
    }
    auto value = strip_comment(line.substr(name_end));
    if (!value) {
      fail(line_no, "invalid value for directive " + quoted(name) + ": " + value.err().detail);
      continue;
    }
    if (value->empty()) {
      // Probe with an explicit "" to say what the value should look like; s is discarded
      // anyway, since this is an error.
      const reason probe = spec->apply(s, "\"\"");
      fail(line_no, "directive " + quoted(name) + " needs a value" +
                        (probe ? ": " + *probe : " (write \"\" to leave it unset)"));
      continue;
    }
    if (reason why = spec->apply(s, *value)) {
      fail(line_no, "invalid value " +
                        (spec->secret ? std::string("(not shown: a secret)") : quoted(*value)) +
                        " for directive " + quoted(name) + ": " + *why);
    }
  }
  if (auto at = first_line.find("lets_encrypt_profile"); at != first_line.end())
    s.lets_encrypt_profile_line = at->second;
  // External Account Binding needs both or neither (the CA gives them together).
  const auto check_binding = [&](const std::string& kid, const std::string& key,
                                 const std::string& prefix) {
    if (kid.empty() == key.empty()) return;
    const std::string set = prefix + (kid.empty() ? "_hmac_key" : "_kid");
    const std::string missing = prefix + (kid.empty() ? "_kid" : "_hmac_key");
    fail(first_line[set],
         set + " is set without " + missing +
             "; External Account Binding needs both (your CA gives them together)");
  };
  check_binding(s.acme_eab_kid, s.acme_eab_hmac_key, "acme_eab");
  check_binding(s.acme_fallback.eab_kid, s.acme_fallback.eab_hmac_key, "acme_fallback_eab");
  if (auto at = first_line.find("acme_fallback_profile"); at != first_line.end())
    s.acme_fallback.profile_line = at->second;
  // Only once each line read well: a line already refused needs no second diagnostic.
  const bool lines_read = out.errors.empty();
  if (auto at = first_line.find("challenge_type"); at != first_line.end())
    s.challenge_type_line = at->second;
  if (lines_read && s.challenge_type == settings::challenge::tls_alpn_01 && !s.https_listen)
    fail(s.challenge_type_line,
         "challenge_type tls-alpn-01 needs https_listen: the CA validates on the HTTPS "
         "listener (port 443); set https_listen 0.0.0.0:443");
  if (lines_read && s.acme_fallback.directory_url.empty()) {
    for (const char* name :
         {"acme_fallback_ca_bundle", "acme_fallback_profile", "acme_fallback_eab_kid",
          "acme_fallback_eab_hmac_key", "acme_fallback_after"}) {
      if (auto at = first_line.find(name); at != first_line.end())
        fail(at->second, std::string(name) +
                             " is set without acme_fallback_directory_url; set the fallback "
                             "CA's directory URL too, or remove this line");
    }
  } else if (lines_read && s.acme_fallback.directory_url == s.acme_directory_url) {
    fail(first_line["acme_fallback_directory_url"],
         "acme_fallback_directory_url is the same CA as acme_directory_url; name another CA");
  }
  check_cluster(s, first_line, lines_read, fail);
  if (s.admin_listen && !is_loopback(s.admin_listen->host) && s.admin_token_file.empty())
    fail(first_line["admin_listen"],
         "admin_listen " + s.admin_listen->to_string() +
             " is reachable from other hosts: set admin_token_file to a file (mode 0600) holding "
             "the token clients must send, or listen on 127.0.0.1");
  if (s.lets_encrypt_agree_to_terms_of_service && s.lets_encrypt_registration_email.empty()) {
    out.warnings.push_back(
        {std::string(file_name), first_line["lets_encrypt_agree_to_terms_of_service"],
         "lets_encrypt_agree_to_terms_of_service is yes but lets_encrypt_registration_email is "
         "not set; Let's Encrypt stays disabled until you set both"});
  }
  if (!s.lets_encrypt_agree_to_terms_of_service && !s.lets_encrypt_registration_email.empty()) {
    out.warnings.push_back(
        {std::string(file_name), first_line["lets_encrypt_registration_email"],
         "lets_encrypt_registration_email is set but lets_encrypt_agree_to_terms_of_service is "
         "not yes; Let's Encrypt stays disabled until you agree to the CA's terms (set it to "
         "yes, then run certfleet reload)"});
  }
  if (out.errors.empty()) out.value = std::move(s);
  return out;
}

diagnosed<settings> load_config_file(const std::filesystem::path& path) {
  auto text = read_text_file(path, max_config_file_size);
  if (!text) {
    diagnosed<settings> out;
    out.errors.push_back({path.string(), 0, text.err().detail});
    return out;
  }
  if (!text->has_value()) {
    diagnosed<settings> out;
    out.value = settings{};
    return out;
  }
  return parse_config_text(**text, path.string());
}

}  // namespace certfleet::config
