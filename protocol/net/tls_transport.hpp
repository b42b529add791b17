#pragma once
// The bytes of one HTTP connection: plain TCP, or TLS with OpenSSL writing to the
// socket itself and reading from this transport's receive buffer, which Asio fills.
//
// Why not asio::ssl::stream over beast::tcp_stream: that path copies every record
// through a memory-BIO pair and Asio's SSL engine, and arms a timer for every read
// and write; the ACME client spends most of its non-cryptographic time in such
// layers (bench/analysis.md). Here a record goes from SSL_write to send() directly,
// and a deadline covers a whole phase (connect, handshake, one exchange). Reads go
// through Asio's async_read_some because a readiness wait (async_wait) costs an
// epoll_ctl and a spurious wake-up each time.
//
// Use from the one thread that runs the executor, one coroutine at a time per
// transport.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace certfleet::protocol {

class http_transport {
 public:
  explicit http_transport(boost::asio::any_io_executor executor);
  ~http_transport();
  http_transport(const http_transport&) = delete;
  http_transport& operator=(const http_transport&) = delete;

  boost::asio::ip::tcp::socket& socket() { return socket_; }
  bool is_tls() const { return ssl_ != nullptr; }

  /// After connecting: makes the socket non-blocking and, with a TLS context,
  /// prepares TLS as a client of `host` (SNI for a name; the certificate is checked
  /// against the name or IP address, never skipped). Fails only on OpenSSL errors.
  boost::system::error_code start(SSL_CTX* tls, const std::string& host);

  /// The TLS handshake (after start() with a TLS context).
  boost::asio::awaitable<boost::system::error_code> handshake();
  boost::asio::awaitable<boost::system::error_code> write_all(std::string_view data);
  /// Reads at least one byte into `data`; asio::error::eof at a clean end of stream.
  boost::asio::awaitable<std::size_t> read_some(char* data, std::size_t size,
                                                boost::system::error_code& ec);

  /// Bytes received and not yet taken by try_read (nothing may follow a response).
  bool has_unread() const;

  /// The certificate check's verdict after a failed handshake, for the error text
  /// ("" if the failure was something else).
  std::string verify_failure() const;

  /// Closes the socket when `timeout` passes, unless the returned guard is gone by
  /// then. A pending connect or wait then ends with operation_aborted and
  /// timed_out() is true.
  class armed_deadline {
   public:
    armed_deadline(armed_deadline&&) = default;
    ~armed_deadline();
    bool timed_out() const { return watch_->timed_out; }

   private:
    friend class http_transport;
    struct watch {
      boost::asio::ip::tcp::socket* socket;
      bool timed_out = false;
    };
    armed_deadline(http_transport& t, std::chrono::milliseconds timeout);
    std::shared_ptr<watch> watch_;
    boost::asio::steady_timer* timer_;
  };
  armed_deadline deadline(std::chrono::milliseconds timeout) { return {*this, timeout}; }

 private:
  struct ssl_free {
    void operator()(SSL* ssl) const;
  };
  // A non-blocking attempt either moves `bytes`, fails with `ec`, or says what it
  // needs first (then wait() for that and try the same step again).
  enum class need { nothing, input, writable };
  struct step {
    std::size_t bytes = 0;
    boost::system::error_code ec;
    need wait = need::nothing;
  };
  step try_handshake();
  step try_write(const char* data, std::size_t size);  // TLS: all or nothing, retry the same bytes
  step try_read(char* data, std::size_t size);
  step tls_result(int ret);
  /// Reads what the socket has into the receive buffer (need::input), or waits
  /// until the socket is writable.
  boost::asio::awaitable<boost::system::error_code> wait(need what);
  friend struct transport_bio;

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<SSL, ssl_free> ssl_;
  // Received bytes not yet taken: [received_begin_, received_end_). One TLS record
  // (16 KiB of data plus its overhead) always fits.
  static constexpr std::size_t receive_capacity = 18 * 1024;
  std::unique_ptr<char[]> received_;
  std::size_t received_begin_ = 0;
  std::size_t received_end_ = 0;
  bool received_eof_ = false;
  std::size_t take_received(char* data, std::size_t size);
};

}  // namespace certfleet::protocol
