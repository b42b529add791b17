#include "protocol/net/listen_address.hpp"

#include "core/process_guard.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

result<std::pair<std::string, unsigned short>> split_host_port(const std::string& address) {
  auto bad = [&](const char* why) {
    return error{error_kind::config, "invalid listen address \"" + address + "\": " + why +
                                         " (expected HOST:PORT, e.g. 0.0.0.0:80 or [::]:80)"};
  };
  std::string host, port;
  if (address.starts_with("[")) {
    auto close = address.find("]:");
    if (close == std::string::npos) return bad("no ]:PORT after the IPv6 address");
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    auto colon = address.rfind(':');
    if (colon == std::string::npos) return bad("no :PORT");
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return bad("the port is not a number");
  const int n = std::stoi(port);
  if (n > 65535) return bad("the port is out of range");
  return std::pair{host, static_cast<unsigned short>(n)};
}

result<void> bind_and_listen(tcp::acceptor& acceptor, const std::string& address,
                             const std::string& purpose, const std::string& directive) {
  auto hp = split_host_port(address);
  if (!hp) return std::move(hp).err();
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(hp->first.empty() ? "0.0.0.0" : hp->first, ec);
  if (ec) {
    return error{error_kind::config,
                 "invalid " + directive + " \"" + address + "\": " + ec.message()};
  }
  tcp::endpoint endpoint(ip, hp->second);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) close_on_exec(acceptor.native_handle());
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return error{error_kind::config,
                 "cannot listen on " + address + " for " + purpose + ": " + ec.message() +
                     "; stop the other server using that port or change " + directive};
  }
  return {};
}

}  // namespace certfleet::protocol
