#pragma once
// The admin listener (admin_listen): serves admin/routes.hpp on a thread of its own, so a page
// that takes a while at 100k domains never holds up the HTTP-01 responder or the actors.

#include <memory>
#include <string>

#include "admin/routes.hpp"
#include "core/error.hpp"

namespace certfleet::admin {

class admin_listener {
 public:
  /// Binds `address` ("127.0.0.1:9180") and serves. The error names the address and says
  /// what to do.
  static result<std::unique_ptr<admin_listener>> start(const std::string& address,
                                                       admin_sources sources);
  ~admin_listener();
  admin_listener(const admin_listener&) = delete;
  admin_listener& operator=(const admin_listener&) = delete;

  unsigned short port() const;

  struct impl;

 private:
  explicit admin_listener(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

}  // namespace certfleet::admin
