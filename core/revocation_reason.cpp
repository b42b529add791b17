#include "core/revocation_reason.hpp"

#include <array>
#include <utility>

namespace certfleet {

namespace {

// RFC 5280 §5.3.1; the other codes are for CAs (cACompromise, ...) or not used in ACME.
constexpr std::array<std::pair<std::string_view, int>, 5> reasons{{
    {"unspecified", 0},
    {"keyCompromise", 1},
    {"affiliationChanged", 3},
    {"superseded", 4},
    {"cessationOfOperation", 5},
}};

}  // namespace

std::optional<int> revocation_reason_code(std::string_view name) {
  for (const auto& [known, code] : reasons)
    if (known == name) return code;
  return std::nullopt;
}

std::string revocation_reason_names() {
  std::string out;
  for (const auto& [name, code] : reasons) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace certfleet
