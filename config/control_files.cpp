#include "config/control_files.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>

#include "config/domain_name.hpp"
#include "config/text_file.hpp"

namespace certfleet::config {
namespace {

// The line without a '#' comment (at the start or after a blank), trimmed.
std::string_view content_of(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      line = line.substr(0, i);
      break;
    }
  }
  return trim_blanks(line);
}

// Keeps the first of each name, in order. Sorts positions rather than filling a set of
// names: with 100k URL domains, the freed set nodes would stay as holes between the
// kept names for as long as the configuration lives (~40 B per domain measured).
void drop_repeats(std::vector<std::string>& names) {
  std::vector<std::uint32_t> order(names.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return names[a] < names[b]; });
  std::vector<bool> repeat(names.size());
  for (std::size_t i = 1; i < order.size(); ++i)
    repeat[order[i]] = names[order[i]] == names[order[i - 1]];
  std::size_t kept = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (repeat[i]) continue;
    if (kept != i) names[kept] = std::move(names[i]);
    ++kept;
  }
  names.resize(kept);
}

std::vector<std::string_view> split_blanks(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = text.find_first_not_of(" \t", pos);
    if (start == std::string_view::npos) break;
    const std::size_t end = std::min(text.find_first_of(" \t", start), text.size());
    out.push_back(text.substr(start, end - start));
    pos = end;
  }
  return out;
}

// A server_name entry: a domain name, or "*." followed by one.
result<std::string> normalize_server_name(std::string_view name) {
  if (name.substr(0, 2) == "*.") {
    auto rest = normalize_domain(name.substr(2));
    if (!rest) return std::move(rest).err();
    return "*." + *rest;
  }
  return normalize_domain(name);
}

// Parses one non-empty httpd.ssl.listen line; returns the reason it is bad, or the rule.
result<listen_rule> parse_listen_line(std::string_view content) {
  static const std::string form =
      "expected LISTEN_ADDRESS CERT_FILE KEY_FILE [server_name=NAME[,NAME...]]";
  const auto fields = split_blanks(content);
  if (fields.size() < 3 || fields.size() > 4) {
    return error{error_kind::config, form + ", found " + std::to_string(fields.size()) + " field" +
                                         (fields.size() == 1 ? "" : "s")};
  }
  listen_rule rule;
  auto address = parse_listen_address(fields[0]);
  if (!address) {
    return error{error_kind::config,
                 "listen address " + quoted(fields[0]) + ": " + address.err().detail};
  }
  rule.address = *address;
  for (int i : {1, 2}) {
    if (fields[i].front() != '/') {
      return error{error_kind::config, std::string(i == 1 ? "CERT_FILE " : "KEY_FILE ") +
                                           quoted(fields[i]) + " is not an absolute path"};
    }
  }
  rule.cert_file = std::string(fields[1]);
  rule.key_file = std::string(fields[2]);
  if (fields.size() == 4) {
    const std::string_view option = "server_name=";
    if (fields[3].substr(0, option.size()) != option) {
      return error{error_kind::config, "unknown option " + quoted(fields[3]) +
                                           "; the only option is server_name=NAME[,NAME...]"};
    }
    std::string_view names = fields[3].substr(option.size());
    while (true) {
      const auto comma = names.find(',');
      auto name = normalize_server_name(names.substr(0, comma));
      if (!name) return error{error_kind::config, "server_name: " + name.err().detail};
      rule.server_names.push_back(*name);
      if (comma == std::string_view::npos) break;
      names.remove_prefix(comma + 1);
    }
  }
  return rule;
}

}  // namespace

std::string parse_me(std::string_view text, std::string_view file_name,
                     std::vector<diagnostic>& warnings) {
  std::string me;
  int line_no = 0;
  for (const std::string_view line : split_lines(text)) {
    ++line_no;
    const std::string_view content = content_of(line);
    if (content.empty()) continue;
    if (line_no > 1 && !me.empty()) {
      warnings.push_back({std::string(file_name), line_no,
                          "only the first line names this server; this line is ignored"});
      break;
    }
    auto name = normalize_domain(content);
    if (!name) {
      warnings.push_back({std::string(file_name), line_no,
                          name.err().detail + "; no certificate is requested for this server's "
                                              "host name until it is fixed"});
      return {};
    }
    me = *name;
  }
  return me;
}

std::vector<std::string> parse_url_domains(std::string_view text, std::string_view file_name,
                                           std::vector<diagnostic>& warnings) {
  std::vector<std::string> domains;
  int line_no = 0;
  for (const std::string_view line : split_lines(text)) {
    ++line_no;
    const std::string_view content = content_of(line);
    if (content.empty()) continue;
    auto name = normalize_domain(content);
    if (!name) {
      warnings.push_back({std::string(file_name), line_no,
                          name.err().detail + "; this URL domain gets no certificate"});
      continue;
    }
    domains.push_back(std::move(*name));
  }
  drop_repeats(domains);
  return domains;
}

std::vector<listen_rule> parse_listen_rules(std::string_view text, std::string_view file_name,
                                            std::vector<diagnostic>& errors) {
  std::vector<listen_rule> rules;
  std::map<std::string, int> default_rule_line;  // address -> line of its rule without server_name
  int line_no = 0;
  for (const std::string_view line : split_lines(text)) {
    ++line_no;
    const std::string_view content = content_of(line);
    if (content.empty()) continue;
    auto rule = parse_listen_line(content);
    if (!rule) {
      errors.push_back({std::string(file_name), line_no, rule.err().detail});
      continue;
    }
    if (rule->server_names.empty()) {
      const auto [it, inserted] = default_rule_line.emplace(rule->address.to_string(), line_no);
      if (!inserted) {
        errors.push_back({std::string(file_name), line_no,
                          "a second rule without server_name for " + it->first +
                              " (the first is on line " + std::to_string(it->second) +
                              "); an address has one default certificate"});
        continue;
      }
    }
    rules.push_back(std::move(*rule));
  }
  return rules;
}

deprecated_certificate_files find_deprecated_files(const std::filesystem::path& config_dir,
                                                   std::vector<diagnostic>& warnings) {
  const auto present = [&](const char* name) -> std::optional<std::filesystem::path> {
    std::error_code ec;
    const auto path = config_dir / name;
    if (std::filesystem::exists(path, ec)) return path;
    return std::nullopt;
  };
  deprecated_certificate_files files{present("httpd.ssl.crt"), present("httpd.ssl.key"),
                                     present("pure-ftpd.pem"), present("tls.servercert.pem")};
  if (files.httpd_ssl_crt.has_value() != files.httpd_ssl_key.has_value()) {
    const auto& lone = files.httpd_ssl_crt ? *files.httpd_ssl_crt : *files.httpd_ssl_key;
    warnings.push_back({lone.string(), 0,
                        "httpd.ssl.crt and httpd.ssl.key are used only as a pair and the other "
                        "one is missing; this file is ignored"});
  }
  return files;
}

}  // namespace certfleet::config
