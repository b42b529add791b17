#include "protocol/net/dns_resolver.hpp"

#include "core/process_guard.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <unordered_map>

namespace certfleet::protocol {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// One of c-ares' sockets, watched for what c-ares wants. The descriptor never owns
// the socket: c-ares opens and closes it.
struct watched_socket {
  watched_socket(const asio::any_io_executor& executor, ares_socket_t fd)
      : descriptor(executor, fd), fd(fd) {}
  asio::posix::stream_descriptor descriptor;
  ares_socket_t fd;
  bool want_read = false;
  bool want_write = false;
  bool reading = false;  // a wait for readability is pending
  bool writing = false;
  bool closed = false;  // c-ares is done with it; late wake-ups are ignored
};

struct lookup {
  std::string name;
  dns_resolver::callback done;
};

}  // namespace

struct dns_resolver::impl {
  explicit impl(asio::any_io_executor ex) : executor(std::move(ex)), timer(executor) {}

  ~impl() {
    for (auto& [fd, socket] : sockets) forget(*socket);
    sockets.clear();
    if (channel) ares_destroy(channel);  // answers pending lookups with ARES_EDESTRUCTION
  }

  asio::any_io_executor executor;
  ares_channel channel = nullptr;
  asio::steady_timer timer;  // c-ares' next timeout while lookups are pending
  std::unordered_map<ares_socket_t, std::shared_ptr<watched_socket>> sockets;
  std::size_t pending = 0;
  bool timer_armed = false;
  std::uint64_t timer_generation = 0;

  static void forget(watched_socket& socket) {
    socket.closed = true;
    error_code ec;
    socket.descriptor.cancel(ec);
    socket.descriptor.release();
  }

  // c-ares says which of its sockets it wants to read or write; (0, 0) before it
  // closes one.
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<impl*>(data);
    auto it = self->sockets.find(fd);
    if (!readable && !writable) {
      if (it != self->sockets.end()) {
        forget(*it->second);
        self->sockets.erase(it);
      }
      return;
    }
    if (it == self->sockets.end())
      it = self->sockets.emplace(fd, std::make_shared<watched_socket>(self->executor, fd)).first;
    it->second->want_read = readable != 0;
    it->second->want_write = writable != 0;
    self->watch(it->second);
  }

  void watch(const std::shared_ptr<watched_socket>& socket) {
    if (socket->want_read && !socket->reading)
      wait(socket, asio::posix::descriptor_base::wait_read);
    if (socket->want_write && !socket->writing)
      wait(socket, asio::posix::descriptor_base::wait_write);
  }

  // One wait for readability or writability; then c-ares handles the socket, and the
  // wait starts again while c-ares still wants it.
  void wait(const std::shared_ptr<watched_socket>& socket,
            asio::posix::descriptor_base::wait_type type) {
    const bool read = type == asio::posix::descriptor_base::wait_read;
    (read ? socket->reading : socket->writing) = true;
    socket->descriptor.async_wait(type, [this, socket, read](const error_code& ec) {
      (read ? socket->reading : socket->writing) = false;
      if (socket->closed || ec) return;
      process(read ? socket->fd : ARES_SOCKET_BAD, read ? ARES_SOCKET_BAD : socket->fd);
      if (!socket->closed) watch(socket);
    });
  }

  // Lets c-ares read, write or time out, then waits for its next timeout.
  void process(ares_socket_t readable, ares_socket_t writable) {
    ares_process_fd(channel, readable, writable);
    schedule_timeout();
  }

  // Re-arming the timer costs a cancelled wait and often a timerfd syscall: keep it
  // while it already wakes us no later than c-ares needs (an early wake-up is harmless).
  void schedule_timeout() {
    if (pending == 0) {
      if (timer_armed) timer.cancel();
      timer_armed = false;
      return;
    }
    timeval most{1, 0}, next{};
    const timeval* wait = ares_timeout(channel, &most, &next);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait->tv_sec) +
                          std::chrono::microseconds(wait->tv_usec);
    if (timer_armed && timer.expiry() <= deadline) return;
    timer.expires_at(deadline);
    timer_armed = true;
    timer.async_wait([this, armed = ++timer_generation](const error_code& ec) {
      if (ec || armed != timer_generation) return;  // cancelled or replaced
      timer_armed = false;
      process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* info) {
    std::unique_ptr<std::pair<impl*, lookup>> job(static_cast<std::pair<impl*, lookup>*>(arg));
    auto& [self, query] = *job;
    --self->pending;
    asio::post(self->executor, [done = std::move(query.done),
                                answer = addresses_of(query.name, status, info)]() mutable {
      done(std::move(answer));
    });
    if (info != nullptr) ares_freeaddrinfo(info);
  }

  static result<addresses> addresses_of(const std::string& name, int status,
                                        const ares_addrinfo* info) {
    if (status != ARES_SUCCESS) {
      std::string why = status == ARES_ENOTFOUND || status == ARES_ENODATA
                            ? "it has no A or AAAA record"
                            : std::string(ares_strerror(status));
      return error{error_kind::dns, "DNS lookup of \"" + name + "\" failed: " + why, true};
    }
    addresses out;
    for (auto* node = info->nodes; node != nullptr; node = node->ai_next) {
      char buf[INET6_ADDRSTRLEN] = {};
      const void* src =
          node->ai_family == AF_INET
              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr)
              : static_cast<const void*>(
                    &reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr);
      if (inet_ntop(node->ai_family, src, buf, sizeof buf)) out.emplace_back(buf);
    }
    if (out.empty())
      return error{error_kind::dns, "DNS lookup of \"" + name + "\" returned no address", true};
    return out;
  }
};

dns_resolver::dns_resolver(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
dns_resolver::~dns_resolver() = default;

result<std::unique_ptr<dns_resolver>> dns_resolver::create(asio::any_io_executor executor,
                                                           const std::vector<std::string>& servers,
                                                           std::chrono::milliseconds timeout) {
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS) return error{error_kind::internal, "c-ares failed to initialise"};
  auto i = std::make_unique<impl>(std::move(executor));
  ares_options options{};
  options.timeout = static_cast<int>(timeout.count());
  options.tries = 2;
  // DNS only, never /etc/hosts: the self-check must see what the CA sees (and reading
  // the hosts file on every lookup was a quarter of the resolver's CPU).
  char dns_only[] = "b";
  options.lookups = dns_only;
  options.sock_state_cb = &impl::on_socket_state;
  options.sock_state_cb_data = i.get();
  if (int rc = ares_init_options(
          &i->channel, &options,
          ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS | ARES_OPT_SOCK_STATE_CB);
      rc != ARES_SUCCESS) {
    return error{error_kind::config, std::string("cannot set up DNS resolution: ") +
                                         ares_strerror(rc) +
                                         "; check /etc/resolv.conf or dns_servers"};
  }
  ares_set_socket_callback(
      i->channel,
      [](ares_socket_t fd, int, void*) {
        close_on_exec(fd);
        return 0;
      },
      nullptr);
  if (!servers.empty()) {
    std::string csv;
    for (const auto& s : servers) csv += (csv.empty() ? "" : ",") + s;
    if (int rc = ares_set_servers_ports_csv(i->channel, csv.c_str()); rc != ARES_SUCCESS) {
      return error{error_kind::config, "invalid dns_servers \"" + csv + "\": " + ares_strerror(rc) +
                                           " (expected IP or IP:PORT, separated by spaces)"};
    }
  }
  return std::unique_ptr<dns_resolver>(new dns_resolver(std::move(i)));
}

void dns_resolver::resolve(const std::string& name, callback done) {
  auto* job = new std::pair<impl*, lookup>(impl_.get(), lookup{name, std::move(done)});
  ares_addrinfo_hints hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = ARES_AI_NOSORT;
  ++impl_->pending;
  ares_getaddrinfo(impl_->channel, job->second.name.c_str(), nullptr, &hints, &impl::on_answer,
                   job);
  impl_->schedule_timeout();
}

asio::awaitable<result<dns_resolver::addresses>> dns_resolver::async_resolve(
    const std::string& name) {
  // Named, not a temporary inside co_await: GCC 12 destroys such temporaries twice.
  auto initiation = [this, name](auto handler) mutable {
    resolve(name, [h = std::make_shared<decltype(handler)>(std::move(handler))](
                      result<addresses> r) mutable { (*h)(std::move(r)); });
  };
  auto answer =
      co_await asio::async_initiate<decltype(asio::use_awaitable), void(result<addresses>)>(
          std::move(initiation), asio::use_awaitable);
  co_return answer;
}

}  // namespace certfleet::protocol
