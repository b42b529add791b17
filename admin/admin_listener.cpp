#include "admin/admin_listener.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <thread>

namespace certfleet::admin {

struct admin_listener::impl {
  boost::asio::io_context io{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{io.get_executor()};
  admin_sources sources;
  protocol::http_server server;
  std::thread thread;

  explicit impl(admin_sources s)
      : sources(std::move(s)),
        server(io.get_executor(), protocol::plain_handler([this](const auto& request) {
                 return answer_admin(request, sources);
               })) {}
};

result<std::unique_ptr<admin_listener>> admin_listener::start(const std::string& address,
                                                              admin_sources sources) {
  auto i = std::make_unique<impl>(std::move(sources));
  // Bound on the io thread, which owns the server; the answer comes back here.
  std::promise<result<void>> bound;
  auto ready = bound.get_future();
  boost::asio::post(i->io, [&] {
    bound.set_value(i->server.listen(address, "the admin pages (metrics)", "admin_listen"));
  });
  i->thread = std::thread([io = &i->io] { io->run(); });
  auto listening = ready.get();
  std::unique_ptr<admin_listener> listener(new admin_listener(std::move(i)));
  if (!listening) return std::move(listening).err();
  return listener;
}

admin_listener::admin_listener(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

admin_listener::~admin_listener() {
  boost::asio::post(impl_->io, [i = impl_.get()] {
    i->server.stop();
    i->work.reset();
  });
  impl_->thread.join();
}

unsigned short admin_listener::port() const { return impl_->server.port(); }

}  // namespace certfleet::admin
