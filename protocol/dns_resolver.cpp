#include "protocol/dns_resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <mutex>
#include <thread>

namespace certfleet::protocol {

namespace asio = boost::asio;

struct dns_resolver::impl {
  ares_channel channel = nullptr;
  int wake_pipe[2] = {-1, -1};
  std::mutex mutex;
  std::deque<std::pair<std::string, callback>> queue;
  std::atomic<bool> stopping{false};
  std::thread thread;

  ~impl() {
    stopping = true;
    wake();
    if (thread.joinable()) thread.join();
    if (channel) ares_destroy(channel);  // runs pending callbacks with ARES_EDESTRUCTION
    for (int fd : wake_pipe)
      if (fd >= 0) ::close(fd);
  }

  void wake() {
    const char b = 1;
    [[maybe_unused]] auto n = ::write(wake_pipe[1], &b, 1);
  }

  static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* info) {
    std::unique_ptr<std::pair<std::string, callback>> job(
        static_cast<std::pair<std::string, callback>*>(arg));
    const std::string& name = job->first;
    if (status != ARES_SUCCESS) {
      std::string why = status == ARES_ENOTFOUND || status == ARES_ENODATA
                            ? "it has no A or AAAA record"
                            : std::string(ares_strerror(status));
      job->second(error{error_kind::dns, "DNS lookup of \"" + name + "\" failed: " + why, true});
      return;
    }
    addresses out;
    for (auto* node = info->nodes; node != nullptr; node = node->ai_next) {
      char buf[INET6_ADDRSTRLEN] = {};
      const void* src = node->ai_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(node->ai_addr)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(node->ai_addr)->sin6_addr);
      if (inet_ntop(node->ai_family, src, buf, sizeof buf)) out.emplace_back(buf);
    }
    ares_freeaddrinfo(info);
    if (out.empty()) {
      job->second(error{error_kind::dns, "DNS lookup of \"" + name + "\" returned no address", true});
      return;
    }
    job->second(std::move(out));
  }

  void start_queued() {
    std::deque<std::pair<std::string, callback>> jobs;
    {
      std::lock_guard lock(mutex);
      jobs.swap(queue);
    }
    for (auto& j : jobs) {
      auto* job = new std::pair<std::string, callback>(std::move(j));
      ares_addrinfo_hints hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_flags = ARES_AI_NOSORT;
      ares_getaddrinfo(channel, job->first.c_str(), nullptr, &hints, &impl::on_answer, job);
    }
  }

  // c-ares' own sockets plus the wake pipe, polled with c-ares' timeout.
  void run() {
    while (!stopping) {
      start_queued();
      ares_socket_t socks[ARES_GETSOCK_MAXNUM];
      const int bits = ares_getsock(channel, socks, ARES_GETSOCK_MAXNUM);
      std::vector<pollfd> fds{{wake_pipe[0], POLLIN, 0}};
      for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
        if (events) fds.push_back({socks[i], events, 0});
      }
      timeval max{1, 0}, tv{};
      timeval* t = ares_timeout(channel, &max, &tv);
      ::poll(fds.data(), fds.size(), static_cast<int>(t->tv_sec * 1000 + t->tv_usec / 1000));
      if (fds[0].revents & POLLIN) {
        char drain[64];
        [[maybe_unused]] auto n = ::read(wake_pipe[0], drain, sizeof drain);
      }
      for (std::size_t i = 1; i < fds.size(); ++i) {
        ares_process_fd(channel, (fds[i].revents & (POLLIN | POLLERR | POLLHUP)) ? fds[i].fd : ARES_SOCKET_BAD,
                        (fds[i].revents & POLLOUT) ? fds[i].fd : ARES_SOCKET_BAD);
      }
      ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
    }
  }
};

dns_resolver::dns_resolver(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
dns_resolver::~dns_resolver() = default;

result<std::unique_ptr<dns_resolver>> dns_resolver::create(const std::vector<std::string>& servers,
                                                           std::chrono::milliseconds timeout) {
  static const int library = ares_library_init(ARES_LIB_INIT_ALL);
  if (library != ARES_SUCCESS) return error{error_kind::internal, "c-ares failed to initialise"};
  auto i = std::make_unique<impl>();
  ares_options options{};
  options.timeout = static_cast<int>(timeout.count());
  options.tries = 2;
  // DNS only, never /etc/hosts: the self-check must see what the CA sees (and reading
  // the hosts file on every lookup was a quarter of the resolver thread's CPU).
  char dns_only[] = "b";
  options.lookups = dns_only;
  if (int rc = ares_init_options(&i->channel, &options,
                                 ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_LOOKUPS);
      rc != ARES_SUCCESS) {
    return error{error_kind::config, std::string("cannot set up DNS resolution: ") + ares_strerror(rc) +
                                         "; check /etc/resolv.conf or dns_servers"};
  }
  if (!servers.empty()) {
    std::string csv;
    for (const auto& s : servers) csv += (csv.empty() ? "" : ",") + s;
    if (int rc = ares_set_servers_ports_csv(i->channel, csv.c_str()); rc != ARES_SUCCESS) {
      return error{error_kind::config, "invalid dns_servers \"" + csv + "\": " + ares_strerror(rc) +
                                           " (expected IP or IP:PORT, separated by spaces)"};
    }
  }
  if (::pipe2(i->wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    return error{error_kind::internal, "cannot create the DNS resolver's wake-up pipe"};
  i->thread = std::thread([p = i.get()] { p->run(); });
  return std::unique_ptr<dns_resolver>(new dns_resolver(std::move(i)));
}

void dns_resolver::resolve(const std::string& name, callback done) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->queue.emplace_back(name, std::move(done));
  }
  impl_->wake();
}

asio::awaitable<result<dns_resolver::addresses>> dns_resolver::async_resolve(const std::string& name) {
  auto executor = co_await asio::this_coro::executor;
  // Named, not a temporary inside co_await: GCC 12 destroys such temporaries twice.
  auto initiation = [this, name, executor](auto handler) mutable {
    resolve(name, [executor, h = std::make_shared<decltype(handler)>(std::move(handler))](
                      result<addresses> r) mutable {
      asio::post(executor, [h, r = std::move(r)]() mutable { (*h)(std::move(r)); });
    });
  };
  auto answer = co_await asio::async_initiate<decltype(asio::use_awaitable), void(result<addresses>)>(
      std::move(initiation), asio::use_awaitable);
  co_return answer;
}

}  // namespace certfleet::protocol
