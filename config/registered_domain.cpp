#include "config/registered_domain.hpp"

#include <libpsl.h>

namespace certfleet::config {

namespace {

// Loaded once; libpsl's contexts are read-only after loading and safe to share.
const psl_ctx_t* suffix_list() {
  static const psl_ctx_t* const list = [] {
    const psl_ctx_t* latest = psl_latest(nullptr);
    return latest ? latest : psl_builtin();
  }();
  return list;
}

}  // namespace

std::string registered_domain(std::string_view name) {
  const std::string owned(name);
  const psl_ctx_t* list = suffix_list();
  const char* found = list ? psl_registrable_domain(list, owned.c_str()) : nullptr;
  return found ? std::string(found) : owned;
}

}  // namespace certfleet::config
