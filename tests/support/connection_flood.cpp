// A hostile port-80 client for the connection-limit tests: keeps up to N keep-alive
// connections open to 127.0.0.1:PORT from source addresses 127.1.0.1, 127.1.0.2, ...
// (at most PER_ADDRESS each), sends a request on each every 2 s, reconnects those the
// server closes, and exits after SECONDS. Loopback only; bounded in count and time.
//   connection_flood PORT CONNECTIONS PER_ADDRESS SECONDS
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct slot {
  int fd = -1;
  std::chrono::steady_clock::time_point next_send;
};

int connect_from(int index, int per_address, unsigned short port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in from{};
  from.sin_family = AF_INET;
  const unsigned host = 1 + static_cast<unsigned>(index / per_address);  // 127.1.0.1, ...
  from.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((host >> 8) << 8) | (host & 0xff));
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: connection_flood PORT CONNECTIONS PER_ADDRESS SECONDS\n");
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  const int count = std::atoi(argv[2]), per_address = std::atoi(argv[3]);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[4]));
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);

  const std::string request = "GET /flood HTTP/1.1\r\nHost: flood.example\r\n\r\n";
  std::vector<slot> slots(static_cast<std::size_t>(count));
  std::size_t opened = 0, reopened = 0;
  char sink[4096];
  while (std::chrono::steady_clock::now() < end) {
    const auto now = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
      slot& s = slots[static_cast<std::size_t>(i)];
      if (s.fd < 0) {
        s.fd = connect_from(i, per_address, port);
        if (s.fd >= 0) (opened < static_cast<std::size_t>(count) ? ++opened : ++reopened);
        s.next_send = now + std::chrono::milliseconds(100 + i % 1900);
        continue;
      }
      const ssize_t got = ::recv(s.fd, sink, sizeof sink, MSG_DONTWAIT);
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)) {
        ::close(s.fd);  // closed by the server: come back
        s.fd = -1;
        continue;
      }
      if (now >= s.next_send) {
        (void)::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        s.next_send = now + std::chrono::seconds(2);
      }
    }
    ::poll(nullptr, 0, 5);
  }
  int open_now = 0;
  for (auto& s : slots)
    if (s.fd >= 0) ++open_now, ::close(s.fd);
  std::printf("opened %zu, reopened %zu, open at the end %d\n", opened, reopened, open_now);
  return 0;
}
