#pragma once
// Short names for Asio and Beast in the network code's .cpp files (include it from a
// .cpp only: a header that did would put them into every includer's namespace).

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

namespace certfleet {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

}  // namespace certfleet
