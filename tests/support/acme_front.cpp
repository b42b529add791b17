#include "tests/support/acme_front.hpp"

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <sys/socket.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "protocol/crypto/base64url.hpp"

namespace certfleet::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

namespace {

struct window {
  timestamp start, end;
};

// "https://127.0.0.1:14000/dir" -> {"127.0.0.1", "14000", "/dir"}
struct url_parts {
  std::string host, port, path;
};
url_parts split_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const auto path_start = url.find('/', host_start);
  const std::string authority = url.substr(host_start, path_start - host_start);
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("acme_front: no port in " + url);
  return {authority.substr(0, colon), authority.substr(colon + 1),
          path_start == std::string::npos ? "/" : url.substr(path_start)};
}

std::string path_of(const std::string& url) { return split_url(url).path; }

response json_response(http::status status, const std::string& content_type, std::string body) {
  response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  return res;
}

}  // namespace

struct acme_front::impl {
  url_parts upstream;
  ssl::context server_tls{ssl::context::tls_server};
  ssl::context client_tls{ssl::context::tls_client};
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::atomic<bool> stopping{false};
  std::thread accept_thread;

  mutable std::mutex mu;  // everything below
  std::vector<std::thread> connections;
  std::vector<int> open_fds;
  std::map<std::string, window> windows;
  std::map<std::string, std::string> raw_windows;  ///< bodies served as they are
  std::optional<window> default_window;
  std::chrono::seconds retry_after{21600};
  std::string profiles_json;
  std::set<std::string> refuse_once;
  std::vector<std::string> replaces;
  std::vector<std::string> profiles;
  std::vector<std::string> contacts;
  int window_requests = 0;
  std::string new_order_path;

  // The request as pebble answers it, over a fresh TLS connection (pebble's certificate is
  // the test CA's; this proxy only ever talks to the pebble the test started).
  response forward(request req) {
    tcp::resolver resolver(io);
    beast::ssl_stream<tcp::socket> up(io, client_tls);
    asio::connect(beast::get_lowest_layer(up), resolver.resolve(upstream.host, upstream.port));
    up.handshake(ssl::stream_base::client);
    req.keep_alive(false);
    http::write(up, req);
    beast::flat_buffer buf;
    response res;
    http::read(up, buf, res);
    beast::error_code ec;
    up.shutdown(ec);
    res.erase(http::field::connection);
    return res;
  }

  response directory(const request& req) {
    response res = forward(req);
    if (res.result() != http::status::ok) return res;
    json dir = json::parse(res.body());
    const std::string host(req[http::field::host]);
    std::lock_guard lock(mu);
    dir["renewalInfo"] = "https://" + host + "/ari";
    if (!profiles_json.empty()) dir["meta"]["profiles"] = json::parse(profiles_json);
    new_order_path = path_of(dir.value("newOrder", ""));
    res.body() = dir.dump();
    return res;
  }

  response renewal_info(const std::string& cert_id) {
    std::lock_guard lock(mu);
    ++window_requests;
    if (auto raw = raw_windows.find(cert_id); raw != raw_windows.end()) {
      response res = json_response(http::status::ok, "application/json", raw->second);
      res.set(http::field::retry_after, std::to_string(retry_after.count()));
      return res;
    }
    std::optional<window> w = default_window;
    if (auto it = windows.find(cert_id); it != windows.end()) w = it->second;
    if (!w)
      return json_response(http::status::not_found, "application/problem+json",
                           R"({"type":"urn:ietf:params:acme:error:malformed",)"
                           R"("detail":"no such certificate"})");
    json body = {{"suggestedWindow",
                  {{"start", format_rfc3339(w->start)}, {"end", format_rfc3339(w->end)}}}};
    response res = json_response(http::status::ok, "application/json", body.dump());
    res.set(http::field::retry_after, std::to_string(retry_after.count()));
    return res;
  }

  // A string member of a newOrder's payload ("" when absent).
  static std::string order_field(const request& req, const char* name) {
    const json p = payload_of(req);
    return p.is_object() ? p.value(name, "") : std::string{};
  }

  // The decoded payload of a JWS request (null when it has none or is not one).
  static json payload_of(const request& req) {
    try {
      const json jws = json::parse(req.body());
      auto payload = protocol::base64url::decode(jws.at("payload").get<std::string>());
      if (payload && !payload->empty()) return json::parse(*payload);
    } catch (const std::exception&) {
      // Not ours to judge: pebble answers malformed requests.
    }
    return nullptr;
  }

  // An account update (RFC 8555 §7.3.2) pebble accepted: its first contact is recorded.
  response account_post(const request& req) {
    const json p = payload_of(req);
    response res = forward(req);
    if (res.result() == http::status::ok && p.is_object() && p.contains("contact") &&
        !p.contains("termsOfServiceAgreed")) {
      std::lock_guard lock(mu);
      contacts.push_back(p["contact"].empty() ? "" : p["contact"][0].get<std::string>());
    }
    return res;
  }

  // Orders pebble created are recorded (a badNonce retry sends the same order twice); the
  // refusal a test asked for goes back without reaching pebble.
  response new_order(const request& req) {
    const std::string replaced = order_field(req, "replaces");
    {
      std::lock_guard lock(mu);
      if (!replaced.empty() && refuse_once.erase(replaced) > 0)
        return json_response(http::status::conflict, "application/problem+json",
                             R"({"type":"urn:ietf:params:acme:error:alreadyReplaced",)"
                             R"("detail":"certificate )" +
                                 replaced + R"( was already replaced"})");
    }
    response res = forward(req);
    if (res.result() == http::status::created) {
      std::lock_guard lock(mu);
      replaces.push_back(replaced);
      profiles.push_back(order_field(req, "profile"));
    }
    return res;
  }

  response handle(const request& req) {
    const std::string target(req.target());
    if (req.method() == http::verb::get && target == upstream.path) return directory(req);
    if (req.method() == http::verb::get && target.starts_with("/ari/"))
      return renewal_info(target.substr(5));
    bool is_new_order = false;
    {
      std::lock_guard lock(mu);
      is_new_order = req.method() == http::verb::post && target == new_order_path;
    }
    if (is_new_order) return new_order(req);
    if (req.method() == http::verb::post && target.find("/my-account/") != std::string::npos)
      return account_post(req);
    return forward(req);
  }

  void serve(tcp::socket socket) {
    beast::ssl_stream<tcp::socket> stream(std::move(socket), server_tls);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    beast::flat_buffer buf;
    while (!ec) {
      request req;
      http::read(stream, buf, req, ec);
      if (ec) break;
      response res;
      try {
        res = handle(req);
      } catch (const std::exception& e) {
        res = json_response(http::status::bad_gateway, "text/plain",
                            std::string("acme_front: ") + e.what());
      }
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      http::write(stream, res, ec);
      if (!req.keep_alive()) break;
    }
    stream.shutdown(ec);
  }

  void accept_loop() {
    while (!stopping) {
      tcp::socket socket(io);
      beast::error_code ec;
      acceptor.accept(socket, ec);
      if (ec || stopping) break;
      std::lock_guard lock(mu);
      open_fds.push_back(socket.native_handle());
      connections.emplace_back([this, s = std::move(socket)]() mutable { serve(std::move(s)); });
    }
  }
};

acme_front::acme_front(const pebble_harness& pebble) : impl_(std::make_unique<impl>()) {
  impl_->upstream = split_url(pebble.directory_url());
  const auto dir = pebble.workdir();
  impl_->server_tls.use_certificate_chain_file((dir / "localhost.pem").string());
  impl_->server_tls.use_private_key_file((dir / "localhost.key").string(), ssl::context::pem);
  impl_->client_tls.set_verify_mode(ssl::verify_none);
  const tcp::endpoint at{asio::ip::make_address("127.0.0.1"), 0};
  impl_->acceptor.open(at.protocol());
  impl_->acceptor.bind(at);
  impl_->acceptor.listen();
  impl_->accept_thread = std::thread([p = impl_.get()] { p->accept_loop(); });
}

acme_front::~acme_front() {
  impl_->stopping = true;
  {
    // Wakes the accept and every connection blocked in a read.
    beast::error_code ec;
    tcp::socket poke(impl_->io);
    poke.connect(impl_->acceptor.local_endpoint(), ec);
  }
  impl_->accept_thread.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(impl_->mu);
    for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
    connections.swap(impl_->connections);
  }
  for (auto& t : connections) t.join();
}

std::string acme_front::directory_url() const {
  return "https://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port()) +
         impl_->upstream.path;
}

void acme_front::set_window(const std::string& cert_id, timestamp start, timestamp end) {
  std::lock_guard lock(impl_->mu);
  impl_->windows[cert_id] = window{start, end};
}

void acme_front::set_window_body(const std::string& cert_id, const std::string& body) {
  std::lock_guard lock(impl_->mu);
  impl_->raw_windows[cert_id] = body;
}

void acme_front::set_default_window(timestamp start, timestamp end) {
  std::lock_guard lock(impl_->mu);
  impl_->default_window = window{start, end};
}

void acme_front::set_retry_after(std::chrono::seconds s) {
  std::lock_guard lock(impl_->mu);
  impl_->retry_after = s;
}

void acme_front::set_profiles_json(const std::string& json) {
  std::lock_guard lock(impl_->mu);
  impl_->profiles_json = json;
}

void acme_front::refuse_replacing_once(const std::string& cert_id) {
  std::lock_guard lock(impl_->mu);
  impl_->refuse_once.insert(cert_id);
}

std::vector<std::string> acme_front::replaces_seen() const {
  std::lock_guard lock(impl_->mu);
  return impl_->replaces;
}

std::vector<std::string> acme_front::profiles_seen() const {
  std::lock_guard lock(impl_->mu);
  return impl_->profiles;
}

std::vector<std::string> acme_front::contact_updates() const {
  std::lock_guard lock(impl_->mu);
  return impl_->contacts;
}

int acme_front::window_requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->window_requests;
}

}  // namespace certfleet::testing
