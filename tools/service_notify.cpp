#include "tools/service_notify.hpp"

#include <systemd/sd-daemon.h>

#include <cstring>
#include <ctime>
#include <string>

#include "core/log.hpp"

namespace certfleet::service {
namespace {

bool send(const std::string& state) {
  // 0 keeps NOTIFY_SOCKET set: the reload and stop messages need it after READY=1.
  const int sent = ::sd_notify(0, state.c_str());
  if (sent > 0) return true;
  if (sent < 0) {
    log_warning("certfleetd: cannot tell the service manager \"" +
                state.substr(0, state.find('\n')) + "\" over NOTIFY_SOCKET: " +
                std::strerror(-sent) + "; systemd may report the service as timed out");
  }
  return false;
}

}  // namespace

bool notify_ready(std::string_view status) {
  std::string line{status};
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';  // one message per line
  }
  return send("READY=1\nSTATUS=" + line);
}

bool notify_reloading() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec = static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
                    static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
  return send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

bool notify_stopping() { return send("STOPPING=1"); }

}  // namespace certfleet::service
