#include "config/domain_name.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include "config/diagnostic.hpp"

#ifdef CERTFLEET_HAVE_IDN2
#include <idn2.h>
#endif

namespace certfleet::config {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

error invalid(std::string_view value, const std::string& reason) {
  return error{error_kind::invalid_input, "invalid domain name " + quoted(value) + ": " + reason};
}

std::vector<std::string_view> split_labels(std::string_view name) {
  std::vector<std::string_view> labels;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = name.find('.', start);
    labels.push_back(name.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return labels;
    start = dot + 1;
  }
}

bool is_ipv6_literal(std::string_view s) {
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  in6_addr addr{};
  return inet_pton(AF_INET6, std::string(s).c_str(), &addr) == 1;
}

// "1.2.3.4", and the short forms inet_aton also takes ("127.1"), all end in a numeric label;
// a name whose labels are all digits is an address to every resolver.
bool looks_like_ipv4(std::string_view s) {
  if (!s.empty() && s.back() == '.') s.remove_suffix(1);
  const auto labels = split_labels(s);
  return std::all_of(labels.begin(), labels.end(), all_digits);
}

bool has_non_ascii(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

// Converts an internationalised name to its A-label form (IDNA2008 with UTS #46 mapping, the
// way browsers resolve it).
result<std::string> to_a_label(std::string_view name) {
#ifdef CERTFLEET_HAVE_IDN2
  char* out = nullptr;
  const int rc =
      idn2_to_ascii_8z(std::string(name).c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK) {
    return invalid(
        name, std::string("not a valid internationalised domain name (") + idn2_strerror(rc) + ")");
  }
  std::string converted(out);
  idn2_free(out);
  return converted;
#else
  return invalid(name,
                 "contains non-ASCII characters; write an internationalised name in its A-label "
                 "(punycode) form, \"xn--...\" (the command `idn2 NAME` prints it)");
#endif
}

// An "xn--" label must be the punycode of a valid IDNA2008 label, in its canonical form
// (RFC 5891 §5.4): the CA refuses the order otherwise, after spending a new order.
std::string a_label_problem(std::string_view label) {
#ifdef CERTFLEET_HAVE_IDN2
  const std::string text(label);
  uint8_t* out = nullptr;
  const int rc =
      idn2_lookup_u8(reinterpret_cast<const uint8_t*>(text.c_str()), &out, IDN2_NONTRANSITIONAL);
  const bool canonical = rc == IDN2_OK && text == reinterpret_cast<const char*>(out);
  idn2_free(out);
  if (rc != IDN2_OK) {
    return "label " + quoted(label) + " is not a valid internationalised label (" +
           idn2_strerror(rc) + "); write the name in Unicode or check its \"xn--\" form";
  }
  if (!canonical) {
    return "label " + quoted(label) +
           " is not in the canonical \"xn--\" form; write the "
           "name in Unicode and certfleet converts it";
  }
#else
  (void)label;  // without libidn2 only the character rules apply
#endif
  return {};
}

// Checks one label of an ASCII, lower-case name; returns the reason it is unusable, if any.
std::string label_problem(std::string_view label) {
  if (label.empty()) return "it has an empty label (a leading dot or two dots in a row)";
  const std::string shown = quoted(label);
  if (label.size() > max_label_length) {
    return "label " + shown + " is " + std::to_string(label.size()) +
           " characters long; the limit is " + std::to_string(max_label_length);
  }
  for (const char c : label) {
    if ((c >= 'a' && c <= 'z') || is_digit(c) || c == '-') continue;
    return "label " + shown + " contains " + quoted(std::string_view(&c, 1)) +
           "; only letters, digits and hyphens are allowed";
  }
  if (label.front() == '-' || label.back() == '-') {
    return "label " + shown + " starts or ends with a hyphen";
  }
  // RFC 5891 §4.2.3.1: "??--" is reserved for IDNA's "xn--"; CAs refuse the others.
  if (label.size() >= 4 && label.substr(2, 2) == "--" && label.substr(0, 2) != "xn") {
    return "label " + shown +
           " has hyphens in its third and fourth positions, which is "
           "reserved for internationalised (\"xn--\") labels";
  }
  if (label.starts_with("xn--")) return a_label_problem(label);
  return {};
}

}  // namespace

bool idna_supported() {
#ifdef CERTFLEET_HAVE_IDN2
  return true;
#else
  return false;
#endif
}

result<std::string> normalize_domain(std::string_view raw) {
  const std::string_view input = trim(raw);
  if (input.empty()) return error{error_kind::invalid_input, "invalid domain name: it is empty"};

  if (input.find("://") != std::string_view::npos || input.find('/') != std::string_view::npos) {
    return invalid(input, "write the bare domain name, without a scheme (\"https://\") or a path");
  }
  if (input.find('*') != std::string_view::npos) {
    return invalid(input,
                   "wildcards cannot be validated over HTTP-01; list each name you need instead");
  }
  if (is_ipv6_literal(input) || looks_like_ipv4(input)) {
    return invalid(input, "IP addresses cannot get certificates over HTTP-01; use a domain name");
  }
  if (const auto colon = input.rfind(':'); colon != std::string_view::npos) {
    if (all_digits(input.substr(colon + 1))) {
      return invalid(input, "a domain name has no port; remove " + quoted(input.substr(colon)));
    }
  }

  std::string name;
  if (has_non_ascii(input)) {
    std::string_view without_dot = input;
    if (without_dot.back() == '.') without_dot.remove_suffix(1);
    auto converted = to_a_label(without_dot);
    if (!converted) return std::move(converted).err();
    name = std::move(converted).value();
  } else {
    name.assign(input);
    std::transform(name.begin(), name.end(), name.begin(), [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    });
    if (name.back() == '.') name.pop_back();
  }

  if (name.size() > max_domain_length) {
    return invalid(input, "it is " + std::to_string(name.size()) +
                              " characters long; the limit is " +
                              std::to_string(max_domain_length));
  }
  const auto labels = split_labels(name);
  for (const std::string_view label : labels) {
    if (std::string problem = label_problem(label); !problem.empty()) {
      return invalid(input, problem);
    }
  }
  if (labels.size() < 2) {
    return invalid(input,
                   "a single-label name cannot get a publicly trusted certificate; use a fully "
                   "qualified name such as \"" +
                       name + ".example.com\"");
  }
  if (all_digits(labels.back())) {
    return invalid(input, "its last label " + quoted(labels.back()) +
                              " is all digits, which no top-level domain is");
  }
  return name;
}

}  // namespace certfleet::config
