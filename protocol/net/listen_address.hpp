#pragma once
// Opening a listening socket from a configured "host:port" for certfleetd's servers.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "core/error.hpp"

namespace certfleet::protocol {

/// Splits "host:port" / "[v6]:port" into parts; errors name the value.
result<std::pair<std::string, unsigned short>> split_host_port(const std::string& address);

/// Opens, binds (with SO_REUSEADDR) and listens on `address`. `purpose` and
/// `directive` go into the error ("cannot listen on X for PURPOSE ...; ... change
/// DIRECTIVE"), so the user knows which setting to fix.
result<void> bind_and_listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address,
                             const std::string& purpose, const std::string& directive);

}  // namespace certfleet::protocol
