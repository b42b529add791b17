#pragma once
// Helpers for the network tests of protocol/: an io_context thread for the code under
// test, and small scripted peers on 127.0.0.1:0 written with blocking Asio sockets
// (each connection on its own thread). Every wait is bounded.

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange

#include <sys/socket.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace certfleet::testing::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

/// An io_context on its own thread, for the code under test.
class io_thread {
 public:
  io_thread() : thread_([this] { io_.run(); }) {}
  ~io_thread() {
    work_.reset();
    io_.stop();
    thread_.join();
  }
  asio::io_context& io() { return io_; }
  asio::any_io_executor executor() { return io_.get_executor(); }

  /// Starts a coroutine on the io thread.
  template <class T>
  std::future<T> start(asio::awaitable<T> task) {
    return asio::co_spawn(io_, std::move(task), asio::use_future);
  }
  /// Starts several coroutines from one handler on the io thread, so all of them begin
  /// before any of their I/O completes, however slowly this thread posts them.
  template <class T>
  std::vector<std::future<T>> start_together(std::vector<asio::awaitable<T>> tasks) {
    std::promise<std::vector<std::future<T>>> started;
    asio::post(io_, [&] {
      std::vector<std::future<T>> futures;
      for (auto& task : tasks)
        futures.push_back(asio::co_spawn(io_, std::move(task), asio::use_future));
      started.set_value(std::move(futures));
    });
    return wait(started.get_future());
  }
  /// Runs a coroutine to completion (20 s at most, then throws "hung").
  template <class T>
  T run(asio::awaitable<T> task) {
    return wait(start(std::move(task)));
  }
  template <class T>
  static T wait(std::future<T> f) {
    if (f.wait_for(20s) != std::future_status::ready) throw std::runtime_error("hung");
    return f.get();
  }

 private:
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
};

inline void set_receive_timeout(int fd, std::chrono::milliseconds t) {
  timeval tv{static_cast<time_t>(t.count() / 1000),
             static_cast<suseconds_t>((t.count() % 1000) * 1000)};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/// Reads one HTTP request (header and Content-Length body) from a blocking stream;
/// `buffer` keeps what was read past it. nullopt on EOF, error or receive timeout.
template <class Stream>
std::optional<std::string> read_request(Stream& s, std::string& buffer) {
  char chunk[4096];
  boost::system::error_code ec;
  std::size_t end = 0;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    const std::size_t n = s.read_some(asio::buffer(chunk), ec);
    if (ec || n == 0 || buffer.size() > (1 << 20)) return std::nullopt;
    buffer.append(chunk, n);
  }
  std::size_t length = 0;
  std::string header = buffer.substr(0, end + 4);
  for (auto& c : header) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto p = header.find("\r\ncontent-length:"); p != std::string::npos)
    length = std::stoul(header.substr(p + 17));
  while (buffer.size() < end + 4 + length) {
    const std::size_t n = s.read_some(asio::buffer(chunk), ec);
    if (ec || n == 0) return std::nullopt;
    buffer.append(chunk, n);
  }
  std::string request = buffer.substr(0, end + 4 + length);
  buffer.erase(0, end + 4 + length);
  return request;
}

/// A scripted peer on 127.0.0.1:0. Each accepted connection runs `handler(socket, n)`
/// on its own thread (n counts from 0). The destructor shuts every open connection
/// down and joins the threads, so a handler blocked in a read returns promptly.
class fake_peer {
 public:
  using handler = std::function<void(tcp::socket&, int index)>;

  explicit fake_peer(handler h)
      : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}), handler_(std::move(h)) {
    accept_thread_ = std::thread([this] { accept_loop(); });
  }
  ~fake_peer() {
    stopping_ = true;
    {
      std::lock_guard lock(mutex_);
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    stop_cv_.notify_all();
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    accept_thread_.join();
    for (auto& t : threads_) t.join();
  }
  fake_peer(const fake_peer&) = delete;
  fake_peer& operator=(const fake_peer&) = delete;

  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url(const std::string& path = "/", const std::string& scheme = "http",
                  const std::string& host = "127.0.0.1") const {
    return scheme + "://" + host + ":" + std::to_string(port()) + path;
  }
  int accepted() const { return accepted_; }

  /// Handlers record what they received; tests read it afterwards.
  void record(std::string request) {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }
  /// For handlers that must stay silent: returns when the peer is being destroyed
  /// (10 s at most).
  void wait_for_stop() {
    std::unique_lock lock(mutex_);
    stop_cv_.wait_for(lock, 10s, [this] { return stopping_.load(); });
  }
  /// Handlers call done() when they have finished with a connection; tests wait for n.
  void done() {
    std::lock_guard lock(mutex_);
    ++done_;
    done_cv_.notify_all();
  }
  bool wait_done(int n) {
    std::unique_lock lock(mutex_);
    return done_cv_.wait_for(lock, 10s, [&] { return done_ >= n; });
  }

 private:
  void accept_loop() {
    for (int index = 0; index < 1000; ++index) {
      boost::system::error_code ec;
      tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stopping_) return;
      ++accepted_;
      set_receive_timeout(s.native_handle(), 5s);
      std::lock_guard lock(mutex_);
      open_.insert(s.native_handle());
      threads_.emplace_back([this, s = std::move(s), index]() mutable {
        handler_(s, index);
        std::lock_guard lock(mutex_);
        open_.erase(s.native_handle());
        boost::system::error_code ignored;
        s.close(ignored);
      });
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  handler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  mutable std::mutex mutex_;
  std::condition_variable stop_cv_;
  std::condition_variable done_cv_;
  int done_ = 0;
  std::set<int> open_;
  std::vector<std::string> requests_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline unsigned short closed_port() {
  asio::io_context io;
  tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = a.local_endpoint().port();
  a.close();
  return port;
}

/// Writes `bytes` (ignoring errors: the client may have gone).
template <class Stream>
void send(Stream& s, const std::string& bytes) {
  boost::system::error_code ec;
  asio::write(s, asio::buffer(bytes), ec);
}

/// A peer that reads a request and never answers until the peer stops.
struct silent_peer {
  silent_peer()
      : peer([this](tcp::socket& s, int) {
          std::string buffer;
          read_request(s, buffer);
          peer.wait_for_stop();
        }) {}
  fake_peer peer;
};

/// A peer that answers one request with its connection number as the body, as if
/// keeping the connection, then closes it: what a pooled connection finds stale.
/// With `hold_until_accepted` n, the first n connections are answered only once n are
/// open (at most 5 s), so n requests started together really use n connections.
inline fake_peer::handler answer_once_then_close(fake_peer*& self, int hold_until_accepted = 0) {
  return [&self, hold_until_accepted](tcp::socket& s, int index) {
    std::string buffer;
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (index < hold_until_accepted && self->accepted() < hold_until_accepted &&
           std::chrono::steady_clock::now() < give_up)
      std::this_thread::sleep_for(1ms);
    if (read_request(s, buffer))
      send(s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::to_string(index));
    boost::system::error_code ec;
    s.shutdown(tcp::socket::shutdown_both, ec);
    s.close(ec);
    self->done();
  };
}

}  // namespace certfleet::testing::net
