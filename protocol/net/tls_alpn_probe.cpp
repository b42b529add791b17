#include "protocol/net/tls_alpn_probe.hpp"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>

namespace certfleet::protocol {

namespace asio = boost::asio;
namespace beast = boost::beast;

asio::awaitable<result<std::string>> fetch_tls_alpn_certificate(std::string ip, unsigned short port,
                                                                std::string domain,
                                                                std::chrono::milliseconds timeout) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(ip, ec);
  if (ec) co_return error{error_kind::invalid_input, "\"" + ip + "\" is not an IP address"};
  asio::ssl::context ctx{asio::ssl::context::tls_client};
  ctx.set_verify_mode(asio::ssl::verify_none);  // the certificate is compared, not trusted
  beast::ssl_stream<beast::tcp_stream> stream(co_await asio::this_coro::executor, ctx);
  SSL* ssl = stream.native_handle();
  static constexpr unsigned char acme_tls[] =
      "\x0a"
      "acme-tls/1";
  SSL_set_alpn_protos(ssl, acme_tls, sizeof acme_tls - 1);
  SSL_set_tlsext_host_name(ssl, domain.c_str());
  stream.next_layer().expires_after(timeout);
  co_await stream.next_layer().async_connect(asio::ip::tcp::endpoint(address, port),
                                             asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return error{error_kind::network, "could not connect: " + ec.message(), true};
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout)
    co_return error{error_kind::timeout, "the TLS handshake did not end in time", true};
  if (ec) co_return error{error_kind::tls, "the TLS handshake failed: " + ec.message(), true};
  std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  char* data = nullptr;
  if (!cert || !bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1)
    co_return error{error_kind::tls, "the server showed no certificate", true};
  const long n = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<std::size_t>(n));
  stream.next_layer().close();  // RFC 8737 §3: nothing is exchanged after the handshake
  co_return pem;
}

}  // namespace certfleet::protocol
