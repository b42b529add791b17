#include "protocol/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <optional>
#include <stdexcept>

namespace certfleet::protocol {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct http_client::connection {
  std::string key;  // pool key: scheme, host, port, address
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  // Kept across requests and sized once: a fresh buffer started at 512 bytes and grew
  // while the response was read, a TLS read and a reallocation per step.
  beast::flat_buffer buffer;
  bool reused = false;
  // The peer closed the connection before answering anything: the request can be
  // sent again on a fresh connection (RFC 9112 §9.3.1).
  bool closed_before_answer = false;

  beast::tcp_stream& tcp() { return tls ? tls->next_layer() : *plain; }
};

namespace {

// Which pooled connections a request may use. A TLS connection is bound to its host
// name (SNI, certificate check); a plain one to an explicit address only carries
// requests for any host name there (the self-checks of many domains on one address).
std::string pool_key(const url_parts& url, const std::string& connect_address) {
  if (!url.tls && !connect_address.empty()) return "http://@" + connect_address + ":" + url.port;
  return (url.tls ? "https://" : "http://") + url.host + ":" + url.port + "@" + connect_address;
}

error network_error(const char* what, const url_parts& url, const error_code& ec) {
  const bool timed_out = ec == beast::error::timeout;
  return error{timed_out ? error_kind::timeout : error_kind::network,
               std::string(what) + " " + url.host + ":" + url.port +
                   (timed_out ? " timed out" : " failed: " + ec.message()) +
                   "; check that the server is reachable",
               true};
}

// The whole request as one buffer: one TLS record and one send. Written by hand
// because Beast's serializer (a tree of fields, a buffer sequence that flat_stream
// copies together again) cost about as much per request as the TLS record itself.
result<std::string> request_text(const http_request& req, const url_parts& url,
                                 const std::string& user_agent) {
  // URLs are checked by parse_url; the other values come from this program, but a
  // line break in any of them would split the header, so refuse it here too.
  for (const std::string* value : {&req.method, &req.accept, &req.content_type, &user_agent}) {
    if (value->find_first_of("\r\n") != std::string::npos)
      return error{error_kind::invalid_input, "an HTTP header value contains a line break"};
  }
  // RFC 9110 §7.2: the port belongs in Host unless it is the scheme's default; the
  // CA builds its resource URLs from it.
  const bool default_port = url.port == (url.tls ? "443" : "80");
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string text;
  text.reserve(256 + req.body.size());
  text.append(req.method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  text.append(ipv6 ? "[" : "").append(url.host).append(ipv6 ? "]" : "");
  if (!default_port) text.append(":").append(url.port);
  text.append("\r\nUser-Agent: ").append(user_agent);
  if (!req.accept.empty()) text.append("\r\nAccept: ").append(req.accept);
  if (!req.content_type.empty()) text.append("\r\nContent-Type: ").append(req.content_type);
  if (!req.body.empty() || req.method == "POST")
    text.append("\r\nContent-Length: ").append(std::to_string(req.body.size()));
  if (!req.keep_alive) text.append("\r\nConnection: close");
  text.append("\r\n\r\n").append(req.body);
  return text;
}

}  // namespace

http_client::http_client(asio::any_io_executor executor, http_client_options options)
    : executor_(std::move(executor)), options_(std::move(options)) {
  tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  tls_->set_verify_mode(asio::ssl::verify_peer);
  error_code ec;
  if (options_.ca_bundle.empty()) {
    tls_->set_default_verify_paths(ec);
  } else {
    tls_->load_verify_file(options_.ca_bundle, ec);
  }
  if (ec) {
    throw std::runtime_error("cannot load CA certificates from \"" +
                             (options_.ca_bundle.empty() ? std::string("system store")
                                                         : options_.ca_bundle) +
                             "\": " + ec.message() + "; check the acme_ca_bundle setting");
  }
}

http_client::~http_client() = default;

std::size_t http_client::idle_connections() const {
  std::size_t n = 0;
  for (const auto& [key, conns] : idle_) n += conns.size();
  return n;
}

asio::awaitable<result<std::unique_ptr<http_client::connection>>> http_client::connect(
    const url_parts& url, const std::string& connect_address) {
  auto conn = std::make_unique<connection>();
  conn->buffer.reserve(16 * 1024);
  ++connections_opened_;
  conn->key = pool_key(url, connect_address);
  if (url.tls) {
    conn->tls.emplace(executor_, *tls_);
  } else {
    conn->plain.emplace(executor_);
  }
  error_code ec;
  tcp::resolver resolver(executor_);
  const std::string& host = connect_address.empty() ? url.host : connect_address;
  auto endpoints = co_await resolver.async_resolve(host, url.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return error{error_kind::network, "cannot resolve " + host + ": " + ec.message(), true};

  conn->tcp().expires_after(options_.timeout);
  co_await conn->tcp().async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return network_error("connecting to", url, ec);
  conn->tcp().socket().set_option(tcp::no_delay(true), ec);

  if (conn->tls) {
    // SNI and hostname verification against the URL's host, never switched off.
    if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), url.host.c_str()))
      co_return error{error_kind::tls, "cannot set TLS server name for " + url.host};
    conn->tls->set_verify_callback(asio::ssl::host_name_verification(url.host));
    conn->tcp().expires_after(options_.timeout);
    co_await conn->tls->async_handshake(asio::ssl::stream_base::client,
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      co_return error{error_kind::tls,
                      "TLS handshake with " + url.host + ":" + url.port + " failed: " +
                          ec.message() + "; check the CA bundle (acme_ca_bundle) and the URL",
                      true};
    }
  }
  co_return conn;
}

asio::awaitable<result<http_response>> http_client::exchange(connection& conn,
                                                             const http_request& req,
                                                             const url_parts& url) {
  auto text = request_text(req, url, options_.user_agent);
  if (!text) co_return std::move(text).err();

  error_code ec;
  conn.tcp().expires_after(options_.timeout);
  if (conn.tls) {
    co_await asio::async_write(*conn.tls, asio::buffer(*text), asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await asio::async_write(*conn.plain, asio::buffer(*text), asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec) {
    conn.closed_before_answer = ec != beast::error::timeout;
    co_return network_error("sending to", url, ec);
  }

  auto& buffer = conn.buffer;
  buffer.clear();
  http::response_parser<http::string_body> parser;
  parser.body_limit(options_.max_body_bytes);
  parser.header_limit(64 * 1024);
  if (req.method == "HEAD") parser.skip(true);
  conn.tcp().expires_after(options_.timeout);
  // Header first: Beast 1.74 does not apply body_limit to a Content-Length body
  // (measured: a 5 MB body passed a 1 MB limit), so that case is checked here.
  if (conn.tls) {
    co_await http::async_read_header(*conn.tls, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  } else {
    co_await http::async_read_header(*conn.plain, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  }
  if (ec && buffer.size() == 0 &&
      (ec == http::error::end_of_stream || ec == asio::error::connection_reset ||
       ec == asio::error::eof || ec == asio::error::broken_pipe ||
       ec == asio::ssl::error::stream_truncated)) {
    conn.closed_before_answer = true;
  }
  // A HEAD answer carries the Content-Length of a body it does not send.
  if (!ec && req.method != "HEAD" && parser.content_length() &&
      *parser.content_length() > options_.max_body_bytes) {
    ec = http::error::body_limit;
  }
  if (!ec) {
    if (conn.tls) {
      co_await http::async_read(*conn.tls, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    } else {
      co_await http::async_read(*conn.plain, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  if (ec == http::error::body_limit) {
    conn.key.clear();  // the rest of that body is still on the wire: never reuse
    co_return error{error_kind::bad_response,
                    "response from " + url.host + " is larger than " +
                        std::to_string(options_.max_body_bytes) + " bytes; refusing it",
                    true};
  }
  if (ec) co_return network_error("reading from", url, ec);

  auto& res = parser.get();
  http_response out;
  out.status = res.result_int();
  out.content_type = std::string(res[http::field::content_type]);
  out.location = std::string(res[http::field::location]);
  out.replay_nonce = std::string(res["Replay-Nonce"]);
  out.retry_after = std::string(res[http::field::retry_after]);
  for (auto [it, end] = res.equal_range(http::field::link); it != end; ++it) {
    out.links.emplace_back(it->value());
  }
  out.body = std::move(res.body());
  // Bytes after the response are nothing this client asked for: do not pool.
  if (!res.keep_alive() || !req.keep_alive || buffer.size() != 0) conn.key.clear();
  co_return out;
}

asio::awaitable<result<http_response>> http_client::request(http_request req) {
  auto url = parse_url(req.url);
  if (!url) co_return url.err();
  const std::string key = pool_key(*url, req.connect_address);

  // A pooled connection may have been closed by the server while idle; then the
  // request is tried once more on a fresh connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<connection> conn;
    auto& idle = idle_[key];
    // The retry always goes to a fresh connection: another pooled one may be closed too.
    if (attempt == 0 && !idle.empty()) {
      conn = std::move(idle.back());
      idle.pop_back();
      conn->reused = true;
    } else {
      auto fresh = co_await connect(*url, req.connect_address);
      if (!fresh) co_return std::move(fresh).err();
      conn = std::move(fresh.value());
    }
    auto res = co_await exchange(*conn, req, *url);
    if (!res) {
      if (conn->reused && conn->closed_before_answer) continue;
      co_return res;
    }
    auto& pool = idle_[key];
    if (!conn->key.empty() && pool.size() < options_.max_idle_per_endpoint) {
      pool.push_back(std::move(conn));
    }
    co_return res;
  }
  co_return error{error_kind::network, "connection to " + url->host + " closed repeatedly", true};
}

}  // namespace certfleet::protocol
