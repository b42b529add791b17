#include "protocol/net/http_client.hpp"

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <stdexcept>

#include "core/process_guard.hpp"
#include "protocol/net/asio_names.hpp"
#include "protocol/net/tls_transport.hpp"

namespace certfleet::protocol {

struct http_client::connection {
  explicit connection(asio::any_io_executor executor) : stream(std::move(executor)) {}
  std::string key;  // pool key: scheme, host, port, address
  http_transport stream;
  // Kept across requests and sized once: a fresh buffer started at 512 bytes and grew
  // while the response was read, a TLS read and a reallocation per step.
  beast::flat_buffer buffer;
  bool reused = false;
  // The peer closed the connection before answering anything: the request can be
  // sent again on a fresh connection (RFC 9112 §9.3.1).
  bool closed_before_answer = false;
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
  const auto breaks_line = [](const std::string& v) {
    return v.find_first_of("\r\n") != std::string::npos;
  };
  bool bad = false;
  for (const std::string* value :
       {&req.method, &req.accept, &req.content_type, &user_agent, &req.host_header})
    bad = bad || breaks_line(*value);
  for (const auto& [name, value] : req.headers)
    bad = bad || breaks_line(name) || breaks_line(value) || name.find(':') != std::string::npos;
  if (bad) return error{error_kind::invalid_input, "an HTTP header contains a line break"};
  // RFC 9110 §7.2: the port belongs in Host unless it is the scheme's default; the
  // CA builds its resource URLs from it.
  const bool default_port = url.port == (url.tls ? "443" : "80");
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string text;
  text.reserve(256 + req.body.size());
  text.append(req.method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  if (!req.host_header.empty()) {
    text.append(req.host_header);
  } else {
    text.append(ipv6 ? "[" : "").append(url.host).append(ipv6 ? "]" : "");
    if (!default_port) text.append(":").append(url.port);
  }
  for (const auto& [name, value] : req.headers)
    text.append("\r\n").append(name).append(": ").append(value);
  text.append("\r\nUser-Agent: ").append(user_agent);
  if (!req.accept.empty()) text.append("\r\nAccept: ").append(req.accept);
  if (!req.content_type.empty()) text.append("\r\nContent-Type: ").append(req.content_type);
  if (!req.body.empty() || req.method == "POST")
    text.append("\r\nContent-Length: ").append(std::to_string(req.body.size()));
  if (!req.keep_alive) text.append("\r\nConnection: close");
  text.append("\r\n\r\n").append(req.body);
  return text;
}

using response_parser = http::response_parser<http::string_body>;

// Feeds a response to Beast's parser as it arrives; `buffer` keeps what is not parsed
// yet. `closed_before_answer`: the stream ended before its first byte.
asio::awaitable<error_code> read_response(http_transport& stream, beast::flat_buffer& buffer,
                                          response_parser& parser, bool head,
                                          std::size_t max_body_bytes, bool& closed_before_answer) {
  buffer.clear();
  bool length_checked = false;
  error_code ec;
  while (true) {
    if (buffer.size() != 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec && ec != http::error::need_more) co_return ec;
      // Beast 1.74 does not apply body_limit to a Content-Length body (measured: a 5 MB
      // body passed a 1 MB limit), so that case is checked once the header is in. A
      // HEAD answer carries the Content-Length of a body it does not send. The parser
      // is eager only from here: it sets the body up (a string reserved for its
      // length) after this check.
      if (parser.is_header_done() && !length_checked) {
        length_checked = true;
        parser.eager(true);
        if (!head && parser.content_length() && *parser.content_length() > max_body_bytes)
          co_return http::error::body_limit;
      }
      if (parser.is_done()) co_return error_code{};
      if (!ec && used != 0) continue;  // parsed a part; the rest may parse without reading
    }
    const auto space = buffer.prepare(16 * 1024);
    const std::size_t n =
        co_await stream.read_some(static_cast<char*>(space.data()), space.size(), ec);
    if (ec == asio::error::eof) {
      // The end of the stream ends a message without a length, else it cuts one.
      if (parser.got_some()) {
        parser.put_eof(ec);
        co_return ec;
      }
      closed_before_answer = true;
      co_return http::error::end_of_stream;
    }
    if (ec) {
      closed_before_answer = !parser.got_some() && (ec == asio::error::connection_reset ||
                                                    ec == asio::error::broken_pipe ||
                                                    ec == asio::ssl::error::stream_truncated);
      co_return ec;
    }
    buffer.commit(n);
  }
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
    throw std::runtime_error(
        "cannot load CA certificates from \"" +
        (options_.ca_bundle.empty() ? std::string("system store") : options_.ca_bundle) +
        "\": " + ec.message() + "; check the acme_ca_bundle setting");
  }
  if (options_.client_certificate.empty() != options_.client_key.empty())
    throw std::runtime_error("a client certificate needs its key, and a key its certificate");
  if (!options_.client_certificate.empty()) {
    tls_->use_certificate_chain_file(options_.client_certificate, ec);
    if (ec)
      throw std::runtime_error("cannot load the client certificate \"" +
                               options_.client_certificate + "\": " + ec.message());
    tls_->use_private_key_file(options_.client_key, asio::ssl::context::pem, ec);
    if (ec)
      throw std::runtime_error("cannot load the client key \"" + options_.client_key + "\": " +
                               ec.message() + "; it must be a PEM key of that certificate");
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
  auto conn = std::make_unique<connection>(executor_);
  conn->buffer.reserve(16 * 1024);
  ++connections_opened_;
  conn->key = pool_key(url, connect_address);
  error_code ec;
  tcp::resolver resolver(executor_);
  const std::string& host = connect_address.empty() ? url.host : connect_address;
  auto endpoints = co_await resolver.async_resolve(host, url.port,
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return error{error_kind::network, "cannot resolve " + host + ": " + ec.message(), true};

  http_transport& stream = conn->stream;
  {
    auto deadline = stream.deadline(options_.timeout);
    co_await asio::async_connect(stream.socket(), endpoints,
                                 asio::redirect_error(asio::use_awaitable, ec));
    if (deadline.timed_out()) ec = beast::error::timeout;
  }
  if (ec) co_return network_error("connecting to", url, ec);
  close_on_exec(stream.socket().native_handle());
  stream.socket().set_option(tcp::no_delay(true), ec);
  ec = stream.start(url.tls ? tls_->native_handle() : nullptr, url.host);
  if (ec)
    co_return error{error_kind::tls, "cannot set up TLS for " + url.host + ": " + ec.message()};
  if (!url.tls) co_return conn;

  auto deadline = stream.deadline(options_.timeout);
  ec = co_await stream.handshake();
  if (deadline.timed_out())
    co_return network_error("TLS handshake with", url, beast::error::timeout);
  if (ec) {
    const std::string verdict = stream.verify_failure();
    co_return error{error_kind::tls,
                    "TLS handshake with " + url.host + ":" + url.port + " failed: " + ec.message() +
                        (verdict.empty() ? "" : " (" + verdict + ")") +
                        "; check the CA bundle (acme_ca_bundle) and the URL",
                    true};
  }
  co_return conn;
}

// Sends the request and reads the response within one deadline.
asio::awaitable<result<http_response>> http_client::exchange(connection& conn,
                                                             const http_request& req,
                                                             const url_parts& url) {
  auto text = request_text(req, url, options_.user_agent);
  if (!text) co_return std::move(text).err();
  auto deadline = conn.stream.deadline(options_.timeout);

  error_code ec = co_await conn.stream.write_all(*text);
  if (deadline.timed_out()) ec = beast::error::timeout;
  if (ec) {
    conn.closed_before_answer = ec != beast::error::timeout;
    co_return network_error("sending to", url, ec);
  }

  response_parser parser;
  parser.body_limit(options_.max_body_bytes);
  parser.header_limit(64 * 1024);
  if (req.method == "HEAD") parser.skip(true);
  ec = co_await read_response(conn.stream, conn.buffer, parser, req.method == "HEAD",
                              options_.max_body_bytes, conn.closed_before_answer);
  if (deadline.timed_out()) ec = beast::error::timeout;
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
  if (!res.keep_alive() || !req.keep_alive || conn.buffer.size() != 0 || conn.stream.has_unread())
    conn.key.clear();
  co_return out;
}

asio::awaitable<result<http_response>> http_client::stream(
    http_request req, std::function<bool(std::string_view)> on_data,
    std::chrono::milliseconds idle_timeout) {
  auto url = parse_url(req.url);
  if (!url) co_return url.err();
  req.keep_alive = false;
  auto conn = co_await connect(*url, req.connect_address);
  if (!conn) co_return std::move(conn).err();
  http_transport& stream = (*conn)->stream;
  beast::flat_buffer& buffer = (*conn)->buffer;
  auto text = request_text(req, *url, options_.user_agent);
  if (!text) co_return std::move(text).err();
  error_code ec;
  {
    auto deadline = stream.deadline(options_.timeout);
    ec = co_await stream.write_all(*text);
    if (deadline.timed_out()) ec = beast::error::timeout;
  }
  if (ec) co_return network_error("sending to", *url, ec);

  response_parser parser;
  parser.header_limit(64 * 1024);
  bool header_seen = false;
  bool streaming = false;
  bool stopped = false;
  // Until the header is in, the answer may be an error whose body is kept; after it, a
  // 2xx answer's chunks go to on_data and nothing is kept.
  // Beast keeps a reference to the callback: it must outlive the parser's use.
  auto take_chunk = [&](std::uint64_t, beast::string_view chunk, error_code&) -> std::size_t {
    const std::string_view data(chunk.data(), chunk.size());
    if (streaming && !stopped && !on_data(data)) stopped = true;
    if (!streaming) parser.get().body().append(data);
    return data.size();
  };
  parser.on_chunk_body(take_chunk);
  while (!parser.is_done() && !stopped) {
    if (buffer.size() != 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec && ec != http::error::need_more) break;
      ec = {};
      if (parser.is_header_done() && !header_seen) {
        header_seen = true;
        streaming = parser.get().result_int() / 100 == 2;
        parser.body_limit(streaming ? boost::optional<std::uint64_t>() : options_.max_body_bytes);
        parser.eager(true);
      }
      if (used != 0) continue;
    }
    const auto space = buffer.prepare(16 * 1024);
    auto deadline =
        stream.deadline(parser.is_header_done() && streaming ? idle_timeout : options_.timeout);
    const std::size_t n =
        co_await stream.read_some(static_cast<char*>(space.data()), space.size(), ec);
    if (deadline.timed_out()) ec = beast::error::timeout;
    if (ec == asio::error::eof && parser.got_some()) {
      parser.put_eof(ec);
      break;
    }
    if (ec) break;
    buffer.commit(n);
  }
  if (ec && !stopped) co_return network_error("reading from", *url, ec);
  http_response out;
  out.status = parser.get().result_int();
  out.content_type = std::string(parser.get()[http::field::content_type]);
  // A 2xx answer with a Content-Length is a stream of one piece.
  if (streaming && !stopped && !parser.get().body().empty()) on_data(parser.get().body());
  if (!streaming) out.body = std::move(parser.get().body());
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
