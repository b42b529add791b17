// The storage actor over the real store and group writer: it answers a write once it
// is durable, and a new certificate keeps the one it replaces as previous.

#include "actors/storage_actor.hpp"

#include "storage/group_writer.hpp"
#include "tests/actors/fakes.hpp"
#include "tests/support/temp_dir.hpp"

namespace certfleet::actors::testing {
namespace {

using namespace std::chrono_literals;

class storage_actor_test : public actor_fixture {
 protected:
  ~storage_actor_test() override {
    caf::anon_send_exit(storage_, caf::exit_reason::user_shutdown);
    run();
  }

  // Persists `batch` and returns the answer once the writer thread has committed it.
  std::pair<bool, std::string> persist(storage::write_batch batch) {
    auto answer = self_->request(storage_, caf::infinite, persist_atom::value, std::move(batch));
    run();
    writer_.flush();  // the outcome reaches the actor from the writer thread
    run();
    std::pair<bool, std::string> out{false, "no answer"};
    if (self_->mailbox().empty()) return out;
    answer.receive(
        [&](bool ok, std::string& why) {
          out = {ok, std::move(why)};
        },
        [&](caf::error& e) {
          out = {false, sys_.render(e)};
        });
    return out;
  }

  static storage::write_batch new_certificate(const std::string& serial, timestamp at) {
    storage::write_batch batch;
    batch.put_certs.push_back(
        {storage::cert_record{"a.example", "CHAIN " + serial, "KEY", at, at + 90 * 24h, serial},
         std::nullopt});
    return batch;
  }

  certfleet::testing::temp_dir dir_;
  std::unique_ptr<storage::store> store_ = open_test_store(dir_.path());
  storage::group_writer writer_{*store_};
  storage_actor storage_ = sys_.spawn(storage_behavior, store_.get(), &writer_, storage_mirror{});
};

TEST_F(storage_actor_test, a_new_certificate_keeps_the_one_it_replaces_as_previous) {
  ASSERT_EQ(persist(new_certificate("01", wall_.now())), std::make_pair(true, std::string()));
  ASSERT_EQ(persist(new_certificate("02", wall_.now() + 60 * 24h)),
            std::make_pair(true, std::string()));
  auto stored = store_->get_certs("a.example");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->current.serial, "02");
  ASSERT_TRUE((*stored)->previous);
  EXPECT_EQ((*stored)->previous->serial, "01");
}

}  // namespace
}  // namespace certfleet::actors::testing
