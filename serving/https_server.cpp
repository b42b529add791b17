#include "serving/https_server.hpp"

#include <openssl/ssl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <list>
#include <unordered_map>

#include "protocol/net/accept_loop.hpp"
#include "protocol/net/asio_names.hpp"
#include "protocol/net/http_client.hpp"
#include "serving/client_hello.hpp"

namespace certfleet::serving {

namespace {

struct ctx_deleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using ctx_ptr = std::shared_ptr<SSL_CTX>;

// An SSL_CTX holding one chain and key; nullptr if OpenSSL refuses them.
ctx_ptr make_ctx(const pem_pair& pair) {
  ctx_ptr ctx(SSL_CTX_new(TLS_server_method()), ctx_deleter{});
  if (!ctx) return nullptr;
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  std::unique_ptr<BIO, decltype(&BIO_free)> chain(
      BIO_new_mem_buf(pair.chain_pem.data(), static_cast<int>(pair.chain_pem.size())), &BIO_free);
  X509* leaf = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr || SSL_CTX_use_certificate(ctx.get(), leaf) != 1) {
    X509_free(leaf);
    return nullptr;
  }
  X509_free(leaf);
  while (X509* extra = PEM_read_bio_X509(chain.get(), nullptr, nullptr, nullptr)) {
    SSL_CTX_add_extra_chain_cert(ctx.get(), extra);  // takes ownership
  }
  ERR_clear_error();  // the end of the chain reads as an error
  std::unique_ptr<BIO, decltype(&BIO_free)> key(
      BIO_new_mem_buf(pair.key_pem.data(), static_cast<int>(pair.key_pem.size())), &BIO_free);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  const bool ok = pkey != nullptr && SSL_CTX_use_PrivateKey(ctx.get(), pkey) == 1 &&
                  SSL_CTX_check_private_key(ctx.get()) == 1;
  EVP_PKEY_free(pkey);
  return ok ? ctx : nullptr;
}

constexpr std::string_view acme_tls_protocol = "acme-tls/1";

// Marks a connection that is answering a TLS-ALPN-01 challenge.
int challenge_marker() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string_view as_view(const unsigned char* bytes, std::size_t len) {
  return {reinterpret_cast<const char*>(bytes), len};
}

int select_acme_tls(SSL*, const unsigned char** out, unsigned char* out_len,
                    const unsigned char* in, unsigned int in_len, void*) {
  for (unsigned int at = 0; at < in_len;) {
    const unsigned int n = in[at];
    if (at + 1 + n > in_len) break;
    if (std::string_view(reinterpret_cast<const char*>(in + at + 1), n) == acme_tls_protocol) {
      *out = in + at + 1;
      *out_len = static_cast<unsigned char>(n);
      return SSL_TLSEXT_ERR_OK;
    }
    at += 1 + n;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

struct https_server::impl {
  impl(asio::any_io_executor ex, certificate_provider p, https_options o)
      : executor(std::move(ex)),
        provider(std::move(p)),
        options(std::move(o)),
        base(asio::ssl::context::tls_server),
        listener(executor, options.limits) {}

  asio::any_io_executor executor;
  certificate_provider provider;
  https_options options;
  asio::ssl::context base;
  protocol::accept_loop listener;
  /// Kept for the server's life: a request forwarding through it may still be running when a
  /// reload changes options.upstream.
  std::unique_ptr<protocol::http_client> upstream;
  // LRU of loaded certificates by name; touched only on the io thread.
  std::list<std::string> order;
  std::unordered_map<std::string, std::pair<ctx_ptr, std::list<std::string>::iterator>> cache;

  ctx_ptr lookup(const std::string& name) {
    if (auto it = cache.find(name); it != cache.end()) {
      order.splice(order.begin(), order, it->second.second);
      return it->second.first;
    }
    auto pair = provider(name);
    ctx_ptr ctx = pair ? make_ctx(*pair) : nullptr;
    if (!ctx) return nullptr;
    order.push_front(name);
    cache[name] = {ctx, order.begin()};
    if (cache.size() > options.cache_size) {
      cache.erase(order.back());
      order.pop_back();
    }
    return ctx;
  }

  // RFC 8737: a ClientHello that asks for acme-tls/1 for a name with a published challenge
  // gets the challenge certificate (and that protocol), nothing else.
  static int on_client_hello(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<impl*>(arg);
    if (!self->options.tls_alpn_answers) return SSL_CLIENT_HELLO_SUCCESS;
    const unsigned char* alpn = nullptr;
    std::size_t alpn_len = 0;
    const unsigned char* sni = nullptr;
    std::size_t sni_len = 0;
    if (SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &alpn,
                                  &alpn_len) != 1 ||
        !offers_protocol(as_view(alpn, alpn_len), acme_tls_protocol) ||
        SSL_client_hello_get0_ext(ssl, TLSEXT_TYPE_server_name, &sni, &sni_len) != 1)
      return SSL_CLIENT_HELLO_SUCCESS;
    auto answer = self->options.tls_alpn_answers(server_name_of(as_view(sni, sni_len)));
    if (!answer) return SSL_CLIENT_HELLO_SUCCESS;
    ctx_ptr ctx = make_ctx(pem_pair{answer->cert_pem, answer->key_pem});
    if (!ctx) return SSL_CLIENT_HELLO_SUCCESS;
    SSL_CTX_set_alpn_select_cb(ctx.get(), &select_acme_tls, nullptr);
    SSL_set_SSL_CTX(ssl, ctx.get());  // holds its own reference
    SSL_set_ex_data(ssl, challenge_marker(), ssl);
    return SSL_CLIENT_HELLO_SUCCESS;
  }

  // OpenSSL's SNI callback: switch the connection to the chosen certificate.
  static int on_server_name(SSL* ssl, int*, void* arg) {
    if (SSL_get_ex_data(ssl, challenge_marker()) != nullptr) return SSL_TLSEXT_ERR_OK;
    auto* self = static_cast<impl*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::string lower = name ? name : "";
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto ctx = self->lookup(lower)) SSL_set_SSL_CTX(ssl, ctx.get());
    return SSL_TLSEXT_ERR_OK;
  }

  asio::awaitable<http::response<http::string_body>> answer(http::request<http::string_body> req,
                                                            std::string client_address) {
    http::response<http::string_body> res{http::status::not_found, req.version()};
    res.set(http::field::server, "certfleet");
    res.keep_alive(req.keep_alive());
    res.set(http::field::content_type, "text/plain");
    const std::string target(req.target());
    // Only origin-form ("/path"): the target is appended to the upstream's address,
    // so "5/x" would otherwise reach port <upstream port>5.
    if (target.empty() || target.front() != '/') {
      res.result(http::status::bad_request);
      res.keep_alive(false);
      res.body() = "Bad request\n";
      res.prepare_payload();
      co_return res;
    }
    if (options.upstream.empty()) {
      res.body() = "Not found\n";
      res.prepare_payload();
      co_return res;
    }
    protocol::http_request forward;
    forward.method = std::string(req.method_string());
    forward.url = "http://" + options.upstream + target;
    forward.host_header = std::string(req[http::field::host]);
    forward.headers = {{"X-Forwarded-For", std::move(client_address)},
                       {"X-Forwarded-Proto", "https"}};
    forward.body = req.body();
    forward.content_type = std::string(req[http::field::content_type]);
    auto got = co_await upstream->request(std::move(forward));
    if (!got) {
      res.result(http::status::bad_gateway);
      res.body() = "Bad gateway: the upstream HTTP server did not answer\n";
    } else {
      res.result(got->status);
      if (got->content_type.empty())
        res.erase(http::field::content_type);
      else
        res.set(http::field::content_type, got->content_type);
      if (!got->location.empty()) res.set(http::field::location, got->location);
      res.body() = std::move(got->body);
    }
    res.prepare_payload();
    co_return res;
  }

  asio::awaitable<void> serve(tcp::socket socket,
                              std::shared_ptr<protocol::accepted_connection> conn) {
    error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    const std::string client_address = ec ? std::string() : peer.address().to_string();
    beast::ssl_stream<beast::tcp_stream> stream(std::move(socket), base);
    stream.next_layer().expires_after(options.timeout);
    co_await stream.async_handshake(asio::ssl::stream_base::server,
                                    asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    // RFC 8737 §3: the validation is the handshake; no data follows.
    if (SSL_get_ex_data(stream.native_handle(), challenge_marker()) != nullptr) {
      stream.next_layer().expires_after(std::chrono::seconds(2));
      co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    beast::flat_buffer buffer;
    for (int n = 0; n < 1000; ++n) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      stream.next_layer().expires_after(
          n == 0 ? options.timeout : std::min(options.timeout, options.keep_alive_timeout));
      // Header first: Beast 1.74 does not apply body_limit to a Content-Length body.
      conn->set_idle(true);
      co_await http::async_read_header(stream, buffer, parser,
                                       asio::redirect_error(asio::use_awaitable, ec));
      conn->set_idle(false);
      if (ec || (parser.content_length() && *parser.content_length() > options.max_body_bytes))
        break;
      co_await http::async_read(stream, buffer, parser,
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      auto request = parser.release();  // named: GCC 12 mishandles temporaries in co_await
      auto res = co_await answer(std::move(request), client_address);
      const bool keep = res.keep_alive();
      co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !keep) break;
    }
    stream.next_layer().expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
  }
};

https_server::https_server(asio::any_io_executor executor, certificate_provider provider,
                           https_options options)
    : impl_(std::make_shared<impl>(std::move(executor), std::move(provider), std::move(options))) {
  SSL_CTX* base = impl_->base.native_handle();
  SSL_CTX_set_min_proto_version(base, TLS1_2_VERSION);
  SSL_CTX_set_client_hello_cb(base, &impl::on_client_hello, impl_.get());
  SSL_CTX_set_tlsext_servername_callback(base, &impl::on_server_name);
  SSL_CTX_set_tlsext_servername_arg(base, impl_.get());
  impl_->upstream =
      std::make_unique<protocol::http_client>(impl_->executor, protocol::http_client_options{});
}

https_server::~https_server() { stop(); }

result<void> https_server::listen(const std::string& address) {
  // Clients without SNI get the default ("") certificate from the base context.
  if (auto fallback = impl_->provider("")) {
    if (auto ctx = make_ctx(*fallback)) {
      SSL_CTX_use_certificate(impl_->base.native_handle(), SSL_CTX_get0_certificate(ctx.get()));
      SSL_CTX_use_PrivateKey(impl_->base.native_handle(), SSL_CTX_get0_privatekey(ctx.get()));
    }
  }
  auto serve = [i = impl_.get()](tcp::socket socket,
                                 std::shared_ptr<protocol::accepted_connection> conn) {
    return i->serve(std::move(socket), std::move(conn));
  };
  return impl_->listener.listen(address, "HTTPS", "https_listen", serve, impl_);
}

unsigned short https_server::port() const { return impl_->listener.port(); }

result<void> https_server::rebind(const std::string& address) {
  return impl_->listener.rebind(address, "HTTPS", "https_listen");
}

void https_server::set_upstream(std::string upstream) {
  asio::post(impl_->executor,
             [i = impl_, upstream = std::move(upstream)] { i->options.upstream = upstream; });
}

void https_server::invalidate(std::vector<std::string> names) {
  asio::post(impl_->executor, [i = impl_, names = std::move(names)] {
    if (names.empty()) {
      i->cache.clear();
      i->order.clear();
      return;
    }
    for (const auto& n : names) {
      if (auto it = i->cache.find(n); it != i->cache.end()) {
        i->order.erase(it->second.second);
        i->cache.erase(it);
      }
    }
  });
}

void https_server::stop() {
  if (impl_) impl_->listener.stop();
}

}  // namespace certfleet::serving
