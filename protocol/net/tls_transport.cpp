#include "protocol/net/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <climits>
#include <cstring>

namespace certfleet::protocol {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

error_code openssl_error(unsigned long err) {
  return {static_cast<int>(err), asio::error::get_ssl_category()};
}

// Before each SSL call: SSL_get_error and errno only speak of the call just made.
void clear_errors() {
  ERR_clear_error();
  errno = 0;
}

}  // namespace

// OpenSSL's side of the connection: reads are served from the transport's receive
// buffer, writes go straight to the socket with MSG_NOSIGNAL (OpenSSL's own socket
// BIO writes with write(2), which raises SIGPIPE on a connection the peer reset).
struct transport_bio {
  static http_transport& of(BIO* bio) { return *static_cast<http_transport*>(BIO_get_data(bio)); }

  static int read(BIO* bio, char* data, int size) {
    BIO_clear_retry_flags(bio);
    http_transport& t = of(bio);
    const std::size_t n = t.take_received(data, static_cast<std::size_t>(size));
    if (n != 0) return static_cast<int>(n);
    if (t.received_eof_) return 0;
    BIO_set_retry_read(bio);
    return -1;
  }

  static int write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    const ssize_t sent =
        ::send(of(bio).socket_.native_handle(), data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      BIO_set_retry_write(bio);
    return static_cast<int>(sent);
  }

  static long ctrl(BIO* bio, int cmd, long, void*) {
    switch (cmd) {
      case BIO_CTRL_FLUSH:
        return 1;
      case BIO_CTRL_EOF:  // how OpenSSL tells a cut connection from a closed one
        return of(bio).received_eof_ ? 1 : 0;
      case BIO_CTRL_PENDING:
        return static_cast<long>(of(bio).received_end_ - of(bio).received_begin_);
      default:
        return 0;
    }
  }

  static BIO_METHOD* method() {
    static BIO_METHOD* const m = [] {
      BIO_METHOD* created =
          BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "certfleet transport");
      if (created != nullptr) {
        BIO_meth_set_read(created, read);
        BIO_meth_set_write(created, write);
        BIO_meth_set_ctrl(created, ctrl);
      }
      return created;
    }();
    return m;
  }
};

void http_transport::ssl_free::operator()(SSL* ssl) const { SSL_free(ssl); }

http_transport::http_transport(asio::any_io_executor executor)
    : socket_(executor), timer_(std::move(executor)), received_(new char[receive_capacity]) {}

http_transport::~http_transport() = default;

error_code http_transport::start(SSL_CTX* tls, const std::string& host) {
  error_code ec;
  socket_.non_blocking(true, ec);
  if (ec || tls == nullptr) return ec;

  ERR_clear_error();
  ssl_.reset(SSL_new(tls));
  BIO* bio = transport_bio::method() ? BIO_new(transport_bio::method()) : nullptr;
  if (!ssl_ || bio == nullptr) {
    BIO_free(bio);
    return openssl_error(ERR_get_error());
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_.get(), bio, bio);
  SSL_set_connect_state(ssl_.get());
  SSL_set_verify(ssl_.get(), SSL_VERIFY_PEER, nullptr);

  // RFC 6066 §3: SNI carries names only; an IP address is checked as an IP SAN.
  boost::system::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  const bool ok =
      not_ip ? SSL_set_tlsext_host_name(ssl_.get(), host.c_str()) == 1 &&
                   SSL_set1_host(ssl_.get(), host.c_str()) == 1
             : X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_.get()), host.c_str()) == 1;
  if (!ok) return openssl_error(ERR_get_error());
  return {};
}

// What an SSL call's return value means: bytes moved (> 0), or what stopped it.
http_transport::step http_transport::tls_result(int ret) {
  const int sys_errno = errno;  // before SSL_get_error can change it
  step s;
  if (ret > 0) {
    s.bytes = static_cast<std::size_t>(ret);
    return s;
  }
  switch (SSL_get_error(ssl_.get(), ret)) {
    case SSL_ERROR_WANT_READ:
      s.wait = need::input;
      break;
    case SSL_ERROR_WANT_WRITE:
      s.wait = need::writable;
      break;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      s.ec = asio::error::eof;
      break;
    case SSL_ERROR_SYSCALL:
      s.ec = sys_errno != 0 ? error_code(sys_errno, asio::error::get_system_category())
                            : error_code(asio::ssl::error::stream_truncated);
      break;
    default: {
      const unsigned long err = ERR_get_error();
      s.ec = ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING
                 ? error_code(asio::ssl::error::stream_truncated)
                 : openssl_error(err);
    }
  }
  return s;
}

http_transport::step http_transport::try_handshake() {
  clear_errors();
  const int ret = SSL_connect(ssl_.get());
  return ret == 1 ? step{} : tls_result(ret);
}

http_transport::step http_transport::try_write(const char* data, std::size_t size) {
  const int n = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  step s;
  if (ssl_) {
    clear_errors();
    return tls_result(SSL_write(ssl_.get(), data, n));
  }
  s.bytes = socket_.write_some(asio::buffer(data, static_cast<std::size_t>(n)), s.ec);
  if (s.ec == asio::error::would_block) {
    s.ec.clear();
    s.wait = need::writable;
  }
  return s;
}

http_transport::step http_transport::try_read(char* data, std::size_t size) {
  const int n = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
  step s;
  if (ssl_) {
    clear_errors();
    return tls_result(SSL_read(ssl_.get(), data, n));
  }
  s.bytes = take_received(data, static_cast<std::size_t>(n));
  if (s.bytes == 0) {
    if (received_eof_) {
      s.ec = asio::error::eof;
    } else {
      s.wait = need::input;
    }
  }
  return s;
}

asio::awaitable<error_code> http_transport::handshake() {
  while (true) {
    const step s = try_handshake();
    if (s.ec || s.wait == need::nothing) co_return s.ec;
    const error_code ec = co_await wait(s.wait);
    if (ec) co_return ec;
  }
}

asio::awaitable<error_code> http_transport::write_all(std::string_view data) {
  for (std::size_t sent = 0; sent < data.size();) {
    const step s = try_write(data.data() + sent, data.size() - sent);
    if (s.ec) co_return s.ec;
    if (s.wait != need::nothing) {
      const error_code ec = co_await wait(s.wait);
      if (ec) co_return ec;
    }
    sent += s.bytes;
  }
  co_return error_code{};
}

asio::awaitable<std::size_t> http_transport::read_some(char* data, std::size_t size,
                                                       error_code& ec) {
  while (true) {
    const step s = try_read(data, size);
    ec = s.ec;
    if (ec || s.wait == need::nothing) co_return s.bytes;
    ec = co_await wait(s.wait);
    if (ec) co_return 0;
  }
}

std::size_t http_transport::take_received(char* data, std::size_t size) {
  const std::size_t n = std::min(size, received_end_ - received_begin_);
  std::memcpy(data, received_.get() + received_begin_, n);
  received_begin_ += n;
  if (received_begin_ == received_end_) received_begin_ = received_end_ = 0;
  return n;
}

asio::awaitable<error_code> http_transport::wait(need what) {
  error_code ec;
  if (what == need::writable) {
    co_await socket_.async_wait(asio::socket_base::wait_write,
                                asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }
  if (received_begin_ != 0) {  // make room at the end
    std::memmove(received_.get(), received_.get() + received_begin_,
                 received_end_ - received_begin_);
    received_end_ -= received_begin_;
    received_begin_ = 0;
  }
  if (received_end_ == receive_capacity)
    co_return asio::error::no_buffer_space;  // never with TLS records
  const auto space =
      asio::buffer(received_.get() + received_end_, receive_capacity - received_end_);
  const std::size_t n =
      co_await socket_.async_read_some(space, asio::redirect_error(asio::use_awaitable, ec));
  received_end_ += n;
  if (ec == asio::error::eof) {
    received_eof_ = true;
    ec.clear();
  }
  co_return ec;
}

bool http_transport::has_unread() const {
  return received_end_ != received_begin_ || (ssl_ && SSL_pending(ssl_.get()) > 0);
}

std::string http_transport::verify_failure() const {
  if (!ssl_) return {};
  const long result = SSL_get_verify_result(ssl_.get());
  return result == X509_V_OK ? std::string() : X509_verify_cert_error_string(result);
}

http_transport::armed_deadline::armed_deadline(http_transport& t, std::chrono::milliseconds timeout)
    : watch_(std::make_shared<watch>(watch{&t.socket_})), timer_(&t.timer_) {
  timer_->expires_after(timeout);
  // The handler may run after the transport is gone (a timer that fired just before
  // the guard was dropped): it reaches the socket only through the watch, which the
  // guard clears.
  timer_->async_wait([w = watch_](const error_code& ec) {
    if (ec || w->socket == nullptr) return;
    w->timed_out = true;
    error_code ignored;
    w->socket->close(ignored);  // also stops a multi-address connect between attempts
  });
}

http_transport::armed_deadline::~armed_deadline() {
  if (!watch_) return;  // moved from
  watch_->socket = nullptr;
  timer_->cancel();
}

}  // namespace certfleet::protocol
