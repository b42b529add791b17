#include "protocol/net/accept_loop.hpp"

#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <list>
#include <unordered_map>

#include "core/process_guard.hpp"
#include "protocol/net/listen_address.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

std::size_t quarter_of_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 4096;
  return std::max<std::size_t>(16, static_cast<std::size_t>(limit.rlim_cur) / 4);
}

}  // namespace

// A live connection: its descriptor (to shut it down when evicted) and since when it
// has waited for a request. Lives in state::connections until its coroutine ends.
struct accept_loop::tracked final : accepted_connection {
  int fd = -1;
  std::string address;
  bool idle = true;
  std::chrono::steady_clock::time_point idle_since = std::chrono::steady_clock::now();
  std::list<tracked*>::iterator position;

  void set_idle(bool now_idle) override {
    if (now_idle && !idle) idle_since = std::chrono::steady_clock::now();
    idle = now_idle;
  }
};

struct accept_loop::state {
  state(asio::any_io_executor ex, accept_limits l)
      : executor(std::move(ex)), acceptor(executor), limits(l) {
    if (limits.max_connections == 0) limits.max_connections = quarter_of_descriptor_limit();
  }
  asio::any_io_executor executor;
  tcp::acceptor acceptor;
  accept_limits limits;
  std::atomic<bool> stopped{false};
  // Touched only on the executor's thread (one io thread).
  std::list<tracked*> connections;
  std::unordered_map<std::string, std::size_t> per_address;

  // Shuts down the connection (of `address`, when given) that has waited longest for
  // its next request; its coroutine then ends and frees the slot. False when none is idle.
  bool evict_longest_idle(const std::string* address = nullptr) {
    tracked* oldest = nullptr;
    for (tracked* c : connections) {
      if (!c->idle || c->fd < 0 || (address != nullptr && c->address != *address)) continue;
      if (oldest == nullptr || c->idle_since < oldest->idle_since) oldest = c;
    }
    if (oldest == nullptr) return false;
    ::shutdown(oldest->fd, SHUT_RDWR);
    oldest->fd = -1;  // counted until its coroutine ends; never shut down twice
    return true;
  }
};

accept_loop::accept_loop(asio::any_io_executor executor, accept_limits limits)
    : state_(std::make_shared<state>(std::move(executor), limits)) {}

accept_loop::~accept_loop() { stop(); }

result<void> accept_loop::listen(const std::string& address, const std::string& purpose,
                                 const std::string& directive, connection_handler serve,
                                 std::shared_ptr<void> owner) {
  const auto s = current();
  auto bound = bind_and_listen(s->acceptor, address, purpose, directive);
  if (!bound) return bound;
  {
    std::lock_guard lock(mutex_);
    serve_ = serve;
    owner_ = owner;
  }
  asio::co_spawn(s->executor, run(s, std::move(serve), std::move(owner)), asio::detached);
  return {};
}

result<void> accept_loop::rebind(const std::string& address, const std::string& purpose,
                                 const std::string& directive) {
  const auto old = current();
  auto next = std::make_shared<state>(old->executor, old->limits);
  connection_handler serve;
  std::shared_ptr<void> owner;
  {
    std::lock_guard lock(mutex_);
    serve = serve_;
    owner = owner_.lock();
  }
  if (!serve || !owner)
    return error{error_kind::internal, purpose + ": rebind before listen; this is a bug"};
  // Bound before the old address closes: a failure (the port is taken) leaves the server
  // where it was.
  auto bound = bind_and_listen(next->acceptor, address, purpose, directive);
  if (!bound) return bound;
  {
    std::lock_guard lock(mutex_);
    state_ = next;
  }
  asio::co_spawn(next->executor, run(next, std::move(serve), std::move(owner)), asio::detached);
  stop(old);
  return {};
}

// `owner` is never read: the coroutine frame holding it is what keeps the owner alive.
asio::awaitable<void> accept_loop::run(std::shared_ptr<state> s, connection_handler serve,
                                       [[maybe_unused]] std::shared_ptr<void> owner) {
  asio::steady_timer pause(s->executor);
  while (!s->stopped) {
    error_code ec;
    tcp::socket socket =
        co_await s->acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (s->stopped || ec == asio::error::operation_aborted) co_return;
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
        // The descriptor table is full: free one and wait, instead of retrying at once
        // (which spun at 80% CPU) while the pending connection waits in the backlog.
        s->evict_longest_idle();
        pause.expires_after(std::chrono::milliseconds(100));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    close_on_exec(socket.native_handle());
    const auto peer = socket.remote_endpoint(ec);
    std::string address = ec ? std::string() : peer.address().to_string();
    // At a cap, an idle connection makes room; when every one is busy with a request,
    // the new one is refused (closed at once).
    const auto same = s->per_address.find(address);
    if (same != s->per_address.end() && same->second >= s->limits.max_per_address &&
        !s->evict_longest_idle(&address))
      continue;
    if (s->connections.size() >= s->limits.max_connections && !s->evict_longest_idle()) continue;
    asio::co_spawn(s->executor, serve_tracked(s, serve, std::move(socket), std::move(address)),
                   asio::detached);
  }
}

asio::awaitable<void> accept_loop::serve_tracked(std::shared_ptr<state> s, connection_handler serve,
                                                 tcp::socket socket, std::string address) {
  auto conn = std::make_shared<tracked>();
  conn->fd = socket.native_handle();
  conn->address = address;
  s->connections.push_back(conn.get());
  conn->position = std::prev(s->connections.end());
  ++s->per_address[address];
  // Unregistered however the connection ends, before its slot can be reused.
  struct registration {
    state& s;
    tracked& c;
    ~registration() {
      s.connections.erase(c.position);
      if (auto it = s.per_address.find(c.address); it != s.per_address.end() && --it->second == 0)
        s.per_address.erase(it);
    }
  } registered{*s, *conn};
  co_await serve(std::move(socket), conn);
  conn->fd = -1;  // the server has closed the socket by now
}

std::shared_ptr<accept_loop::state> accept_loop::current() const {
  std::lock_guard lock(mutex_);
  return state_;
}

unsigned short accept_loop::port() const {
  error_code ec;
  return current()->acceptor.local_endpoint(ec).port();
}

std::size_t accept_loop::open_connections() const { return current()->connections.size(); }
std::size_t accept_loop::max_connections() const { return current()->limits.max_connections; }

void accept_loop::stop() { stop(current()); }

void accept_loop::stop(const std::shared_ptr<state>& s) {
  if (s->stopped.exchange(true)) return;
  // The acceptor belongs to the io thread: close it there.
  asio::post(s->executor, [s] {
    error_code ec;
    s->acceptor.close(ec);
  });
}

}  // namespace certfleet::protocol
