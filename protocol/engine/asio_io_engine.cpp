#include "protocol/engine/asio_io_engine.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <numeric>
#include <thread>

#include "core/log.hpp"
#include "protocol/net/challenge_tokens.hpp"
#include "protocol/net/dns_resolver.hpp"
#include "protocol/net/self_check.hpp"

namespace certfleet::protocol {

namespace asio = boost::asio;

namespace {

// asio::io_context destroys the handlers still pending (the coroutines of an issuance
// stopped by SIGTERM) only in its own destructor, after the members declared below it
// that those coroutines use (token_store, acme_client, http_client) are gone: a
// published_token withdrawing from a destroyed token_store. Its protected shutdown()
// destroys them from ~asio_io_engine instead, while every member still lives.
struct io_context_with_shutdown : asio::io_context {
  using asio::io_context::shutdown;
};

std::shared_ptr<const private_key> shared_key(private_key key) {
  return std::make_shared<const private_key>(std::move(key));
}

// A new account key (ECDSA P-256) and its PEM (key material), to register or roll over to.
struct fresh_key {
  std::shared_ptr<const private_key> key;
  std::string pem;
};
result<fresh_key> new_account_key() {
  auto key = private_key::generate(key_type::ec_p256);
  if (!key) return std::move(key).err();
  std::string pem = key->to_pem();
  return fresh_key{shared_key(std::move(key.value())), std::move(pem)};
}

// The stored account in `acme`, with the key the CA knows it by (after a rollover whose
// outcome was not stored, the CA is asked). Returns the account as it is now.
asio::awaitable<result<account_credentials>> use_stored_account(acme_client& acme,
                                                                account_credentials stored) {
  auto key = private_key::from_pem(stored.key_pem);
  if (!key) {
    co_return error{error_kind::storage,
                    "the stored ACME account key cannot be read; remove the state directory's "
                    "account to register a new one"};
  }
  auto next = stored.next_key_pem.empty() ? result<private_key>{error{}}
                                          : private_key::from_pem(stored.next_key_pem);
  if (!next) {
    if (!stored.next_key_pem.empty())
      log_warning(
          "io: the stored key of an unfinished account key rollover cannot be read; "
          "the account goes on with its old key");
    acme.use_account(shared_key(std::move(key.value())), stored.url);
    stored.next_key_pem.clear();
    co_return stored;
  }
  auto settled = co_await acme.settle_key_change(shared_key(std::move(key.value())),
                                                 shared_key(std::move(next.value())), stored.url);
  if (!settled) co_return std::move(settled).err();
  if (*settled) stored.key_pem = stored.next_key_pem;
  stored.next_key_pem.clear();
  co_return stored;
}

}  // namespace

// The CA the engine talks to: an HTTP client trusting its bundle, and the ACME client with
// the account. Each coroutine holds the one it started with, so when a reload names another
// CA, orders in flight finish at the old one and everything begun later goes to the new one.
struct ca_link {
  ca_link(const asio::any_io_executor& executor, http_client_options http_options,
          const std::string& directory_url, const acme_client_options& acme_options)
      : ca_bundle(http_options.ca_bundle),
        http(executor, std::move(http_options)),
        acme(http, directory_url, acme_options) {}
  bool is(const std::string& directory_url, const std::string& bundle) const {
    return acme.directory_url() == directory_url && ca_bundle == bundle;
  }
  std::string ca_bundle;
  http_client http;
  acme_client acme;
};

struct asio_io_engine::impl {
  explicit impl(io_engine_options o)
      : options(std::move(o)),
        work(io.get_executor()),
        http(io.get_executor(), options.http),
        cas{std::make_shared<ca_link>(io.get_executor(), options.http, options.directory_url,
                                      options.acme),
            nullptr},
        responder(io.get_executor(), tokens, options.responder) {
    if (options.share_tokens) tokens.share_with(options.share_tokens(io.get_executor()));
  }

  io_engine_options options;
  io_context_with_shutdown io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  http_client http;  ///< self-checks
  /// The CA of each role (index: ca_role). Null when it could not be set up, or for a
  /// fallback CA none is configured: ca_errors then says why.
  std::array<std::shared_ptr<ca_link>, 2> cas;
  std::array<error, 2> ca_errors{
      error{}, error{error_kind::config,
                     "no fallback CA is configured (acme_fallback_directory_url)", false}};
  std::shared_ptr<ca_link>& ca_of(ca_role role) { return cas[static_cast<std::size_t>(role)]; }
  const error& error_of(ca_role role) const { return ca_errors[static_cast<std::size_t>(role)]; }
  std::uint64_t old_ca_connections = 0;  ///< opened by CAs used before this one
  token_store tokens;
  http01_server responder;
  /// Shared with each self-check that uses it: a reload's new resolver replaces it while
  /// running checks finish on the old one (destroyed on the io thread by the last of them).
  std::shared_ptr<dns_resolver> resolver;
  local_addresses local;
  std::thread thread;

  // A link to the CA at `directory_url` trusted with `ca_bundle`. Errors (config): the bundle
  // cannot be read.
  result<std::shared_ptr<ca_link>> make_link(const std::string& directory_url,
                                             const std::string& ca_bundle) {
    http_client_options http_options = options.http;
    http_options.ca_bundle = ca_bundle;
    try {
      return std::make_shared<ca_link>(io.get_executor(), std::move(http_options), directory_url,
                                       options.acme);
    } catch (const std::exception& e) {
      return error{error_kind::config,
                   "cannot use the CA at " + directory_url + " (" + e.what() +
                       "); fix acme_directory_url or acme_ca_bundle, then run certfleet reload",
                   true};
    }
  }

  // Hands `ask` an acknowledgement and waits on the io thread until another thread calls it
  // (or 2 minutes pass: then the error says `what` took too long).
  // Both are taken by value: the coroutine outlives its caller's temporaries.
  asio::awaitable<result<void>> wait_for_ack(std::function<void(ack)> ask, std::string what) {
    auto timer = std::make_shared<asio::steady_timer>(io, std::chrono::minutes(2));
    auto outcome = std::make_shared<std::optional<result<void>>>();
    ask([this, timer, outcome](result<void> r) {
      asio::post(io, [timer, outcome, r = std::move(r)]() mutable {
        *outcome = std::move(r);
        timer->cancel();
      });
    });
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!*outcome) {
      co_return error{error_kind::timeout, what + " took longer than 2 minutes", true};
    }
    co_return std::move(**outcome);
  }
};

asio_io_engine::asio_io_engine(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

asio_io_engine::~asio_io_engine() {
  const std::uint64_t to_cas =
      impl_->old_ca_connections +
      std::accumulate(impl_->cas.begin(), impl_->cas.end(), std::uint64_t{0},
                      [](std::uint64_t n, const auto& ca) {
                        return n + (ca ? ca->http.connections_opened() : 0);
                      });
  log_info("io: " + std::to_string(impl_->http.connections_opened() + to_cas) +
           " HTTP connections opened (CA and self-checks); " +
           std::to_string(impl_->responder.requests_served()) +
           " requests answered by the HTTP-01 responder");
  impl_->responder.stop();
  impl_->work.reset();
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->io.shutdown();
}

result<std::unique_ptr<asio_io_engine>> asio_io_engine::start(io_engine_options options) {
  std::unique_ptr<impl> i;
  try {
    i = std::make_unique<impl>(std::move(options));
  } catch (const std::exception& e) {
    return error{error_kind::config, e.what()};
  }
  auto resolver =
      dns_resolver::create(i->io.get_executor(), i->options.dns_servers, std::chrono::seconds(5));
  if (!resolver) return std::move(resolver).err();
  i->resolver = std::move(resolver.value());
  if (auto listening = i->responder.listen(i->options.http_listen); !listening) {
    return std::move(listening).err();
  }
  i->thread = std::thread([p = i.get()] { p->io.run(); });
  return std::unique_ptr<asio_io_engine>(new asio_io_engine(std::move(i)));
}

void asio_io_engine::use_self_check_settings(self_check_settings settings,
                                             std::function<void(result<void>)> done) {
  asio::post(impl_->io, [this, settings = std::move(settings), done = std::move(done)] {
    if (settings.dns_servers != impl_->options.dns_servers) {
      auto resolver = dns_resolver::create(impl_->io.get_executor(), settings.dns_servers,
                                           std::chrono::seconds(5));
      if (!resolver) {
        done(std::move(resolver).err());
        return;
      }
      impl_->resolver = std::move(resolver.value());
      impl_->options.dns_servers = settings.dns_servers;
    }
    impl_->options.self_check_port = settings.port;
    impl_->options.self_check_tls_port = settings.tls_port;
    done({});
  });
}

result<void> asio_io_engine::use_http_listen(const std::string& address) {
  return impl_->responder.rebind(address);
}

unsigned short asio_io_engine::http_port() const { return impl_->responder.port(); }
asio::any_io_executor asio_io_engine::executor() const { return impl_->io.get_executor(); }
std::uint64_t asio_io_engine::http_requests_served() const {
  return impl_->responder.requests_served();
}

std::optional<alpn_answer> asio_io_engine::tls_alpn_answer(const std::string& name) const {
  return impl_->tokens.find_alpn(name);
}

void asio_io_engine::self_check(std::string domain, challenge_kind how,
                                std::function<void(result<void>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, domain = std::move(domain), how, done = std::move(done)]() -> asio::awaitable<void> {
        self_check_options opts{.port = impl_->options.self_check_port,
                                .tls_alpn = how == challenge_kind::tls_alpn_01,
                                .tls_port = impl_->options.self_check_tls_port};
        const std::shared_ptr<dns_resolver> resolver = impl_->resolver;
        auto r = co_await run_self_check(domain, *resolver, impl_->http, impl_->tokens,
                                         impl_->local, opts);
        done(std::move(r));
      },
      asio::detached);
}

void asio_io_engine::account(ca_role role, std::optional<account_credentials> stored,
                             std::string email, bool agree_to_terms,
                             std::optional<account_binding> binding,
                             std::function<void(result<account_credentials>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, role, stored = std::move(stored), email = std::move(email), agree_to_terms,
       binding = std::move(binding), done = std::move(done)]() -> asio::awaitable<void> {
        auto ca = impl_->ca_of(role);
        if (!ca) {
          done(impl_->error_of(role));
          co_return;
        }
        if (stored) {
          done(co_await use_stored_account(ca->acme, *stored));
          co_return;
        }
        auto fresh = new_account_key();
        if (!fresh) {
          done(std::move(fresh).err());
          co_return;
        }
        auto url = co_await ca->acme.new_account(fresh->key, email, agree_to_terms, binding);
        if (!url) {
          done(std::move(url).err());
          co_return;
        }
        done(account_credentials{*url, fresh->pem});
      },
      asio::detached);
}

void asio_io_engine::roll_over_key(
    std::function<void(const std::string& key_pem, ack)> before_change,
    std::function<void(result<account_credentials>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, before_change = std::move(before_change),
       done = std::move(done)]() -> asio::awaitable<void> {
        const ca_role role = ca_role::primary;
        auto ca = impl_->ca_of(role);
        if (!ca) {
          done(impl_->error_of(role));
          co_return;
        }
        if (!ca->acme.has_account()) {
          done(error{error_kind::internal, "a key rollover before the account is known (a bug)"});
          co_return;
        }
        auto fresh = new_account_key();
        if (!fresh) {
          done(std::move(fresh).err());
          co_return;
        }
        auto stored = co_await impl_->wait_for_ack(
            [&](ack a) { before_change(fresh->pem, std::move(a)); }, "storing the new account key");
        if (!stored) {
          done(std::move(stored).err());
          co_return;
        }
        auto changed = co_await ca->acme.change_key(fresh->key);
        if (!changed) {
          done(std::move(changed).err());
          co_return;
        }
        done(account_credentials{ca->acme.account_url(), fresh->pem});
      },
      asio::detached);
}

void asio_io_engine::issue(ca_role role, issuance_request request, stage_handler on_stage,
                           std::function<void(result<issued_certificate>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, role, request = std::move(request), on_stage = std::move(on_stage),
       done = std::move(done)]() mutable -> asio::awaitable<void> {
        stage_callback staged = [this, &on_stage](issuance_stage stage, const std::string& url,
                                                  const std::string& key_pem) {
          return impl_->wait_for_ack([&on_stage, stage, url, key_pem](
                                         ack a) { on_stage(stage, url, key_pem, std::move(a)); },
                                     "saving the order's state");
        };
        auto ca = impl_->ca_of(role);
        if (!ca) {
          done(impl_->error_of(role));
          co_return;
        }
        auto r = co_await issue_certificate(ca->acme, impl_->tokens, std::move(request), staged);
        if (r) r->ca_url = ca->acme.directory_url();
        done(std::move(r));
      },
      asio::detached);
}

void asio_io_engine::renewal_info(ca_role role, std::string chain_pem,
                                  std::function<void(result<renewal_info_answer>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, role, chain_pem = std::move(chain_pem),
       done = std::move(done)]() -> asio::awaitable<void> {
        auto ca = impl_->ca_of(role);
        if (!ca) {
          done(impl_->error_of(role));
          co_return;
        }
        auto id = ari_certificate_id_of(chain_pem);
        if (!id) {
          done(std::move(id).err());
          co_return;
        }
        done(co_await ca->acme.renewal_info(*id));
      },
      asio::detached);
}

void asio_io_engine::check_profile(std::string profile, std::string directory_url,
                                   std::string ca_bundle, std::function<void(result<void>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, profile = std::move(profile), directory_url = std::move(directory_url),
       ca_bundle = std::move(ca_bundle), done = std::move(done)]() -> asio::awaitable<void> {
        auto ca = impl_->ca_of(ca_role::primary);
        if (ca && !ca->is(directory_url, ca_bundle)) ca = impl_->ca_of(ca_role::fallback);
        if (!ca || !ca->is(directory_url, ca_bundle)) {
          // A CA a reload is about to name: asked on a link of its own, dropped after.
          auto made = impl_->make_link(directory_url, ca_bundle);
          if (!made) {
            done(std::move(made).err());
            co_return;
          }
          ca = std::move(made.value());
        }
        auto dir = co_await ca->acme.directory();
        if (!dir) {
          done(std::move(dir).err());
          co_return;
        }
        done(protocol::check_profile(*dir, ca->acme.directory_url(), profile));
      },
      asio::detached);
}

void asio_io_engine::update_contact(ca_role role, std::string email,
                                    std::function<void(result<void>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, role, email = std::move(email), done = std::move(done)]() -> asio::awaitable<void> {
        auto ca = impl_->ca_of(role);
        if (!ca) {
          done(impl_->error_of(role));
          co_return;
        }
        done(co_await ca->acme.update_contact(email));
      },
      asio::detached);
}

void asio_io_engine::revoke(ca_role role, std::string chain_pem, int reason,
                            std::function<void(result<void>)> done) {
  asio::co_spawn(
      impl_->io,
      [this, role, chain_pem = std::move(chain_pem), reason,
       done = std::move(done)]() -> asio::awaitable<void> {
        auto ca = impl_->ca_of(role);
        if (!ca) {
          done(impl_->error_of(role));
          co_return;
        }
        done(co_await ca->acme.revoke_certificate(chain_pem, reason));
      },
      asio::detached);
}

void asio_io_engine::use_ca(ca_role role, std::string directory_url, std::string ca_bundle) {
  asio::post(impl_->io, [this, role, directory_url = std::move(directory_url),
                         ca_bundle = std::move(ca_bundle)] {
    auto& i = *impl_;
    auto& ca = i.ca_of(role);
    auto& why = i.ca_errors[static_cast<std::size_t>(role)];
    if (ca) i.old_ca_connections += ca->http.connections_opened();
    const char* which = role == ca_role::primary ? "" : "fallback ";
    if (directory_url.empty()) {  // only a fallback CA may be none
      ca = nullptr;
      why = error{error_kind::config, "no fallback CA is configured (acme_fallback_directory_url)",
                  false};
      return;
    }
    auto made = i.make_link(directory_url, ca_bundle);
    if (made) {
      ca = std::move(made.value());
      log_info(std::string("io: the ") + which + "CA is at " + directory_url);
    } else {
      ca = nullptr;
      why = made.err();
      log_error("io: " + why.detail);
    }
  });
}

}  // namespace certfleet::protocol
