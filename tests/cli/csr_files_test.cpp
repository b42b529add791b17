// `certfleet csr`: the files it writes, checked with the openssl command line (an
// independent reader of the CSR), and what it refuses.
#include "tools/cli/csr_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace certfleet::cli {
namespace {

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  ::pclose(pipe);
  return out;
}

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(csr_files, writes_a_signed_request_for_the_normalised_name_and_a_private_key) {
  testing::temp_dir dir;
  auto written = write_csr_files("Shop.Example.COM.", "rsa2048", dir.path());
  ASSERT_TRUE(written) << written.err().detail;
  EXPECT_NE(written->find("CSR for shop.example.com"), std::string::npos) << *written;

  const auto csr = (dir.path() / "server.csr").string();
  const auto text = run("openssl req -in " + csr + " -noout -verify -text");
  EXPECT_NE(text.find("verify OK"), std::string::npos) << text;
  EXPECT_NE(text.find("DNS:shop.example.com"), std::string::npos) << text;
  EXPECT_NE(text.find("Public-Key: (2048 bit)"), std::string::npos) << text;

  struct stat st {};
  ASSERT_EQ(::stat((dir.path() / "server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The key is the one the request was signed with.
  const auto key = (dir.path() / "server.key").string();
  EXPECT_EQ(run("openssl pkey -in " + key + " -pubout"),
            run("openssl req -in " + csr + " -noout -pubkey"));
}

// The seed's `openssl req -new -newkey rsa:2048` asks for a subject; --subject gives it
// without the prompts, and the key is RSA 2048 unless told otherwise.
TEST(csr_files, the_default_is_the_seeds_rsa_2048_with_the_subject_given) {
  EXPECT_STREQ(default_csr_key_type, "rsa2048");
  testing::temp_dir dir;
  auto written = write_csr_files("mail.example.com", default_csr_key_type, dir.path(),
                                 "/C=US/ST=Utah/L=Salt Lake City/O=Example Inc/OU=Mail");
  ASSERT_TRUE(written) << written.err().detail;
  const auto text =
      run("openssl req -in " + (dir.path() / "server.csr").string() + " -noout -subject -text");
  EXPECT_NE(text.find("C = US, ST = Utah, L = Salt Lake City, O = Example Inc, OU = Mail, CN = "
                      "mail.example.com"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Public-Key: (2048 bit)"), std::string::npos) << text;

  testing::temp_dir own_cn;
  ASSERT_TRUE(write_csr_files("mail.example.com", "ecdsa-p256", own_cn.path(),
                              "/O=Example Inc/CN=Example Mail"));
  const auto own =
      run("openssl req -in " + (own_cn.path() / "server.csr").string() + " -noout -subject -text");
  EXPECT_NE(own.find("subject=O = Example Inc, CN = Example Mail"), std::string::npos) << own;
  EXPECT_NE(own.find("DNS:mail.example.com"), std::string::npos) << own;
}

TEST(csr_files, a_bad_subject_is_refused_with_the_part_that_is_wrong) {
  testing::temp_dir dir;
  for (const auto& [subject, says] : std::vector<std::pair<std::string, std::string>>{
           {"C=US", "must start with \"/\""},
           {"/C=US/Example", "\"Example\" is not FIELD=VALUE"},
           {"/C=US//O=x", "\"\" is not FIELD=VALUE"},
           {"/O=", "\"O=\" is not FIELD=VALUE"},
           {"/C=USA", "C=USA was refused"},
           {"/Colour=blue", "Colour=blue was refused"}}) {
    auto refused = write_csr_files("a.example.com", "ecdsa-p256", dir.path(), subject);
    ASSERT_FALSE(refused) << subject;
    EXPECT_NE(refused.err().detail.find(says), std::string::npos) << refused.err().detail;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "a refused request wrote files";
}

TEST(csr_files, never_overwrites_and_refuses_bad_input_without_writing) {
  testing::temp_dir dir;
  std::ofstream(dir.path() / "server.key") << "an operator's key";
  auto again = write_csr_files("a.example.com", "ecdsa-p256", dir.path());
  ASSERT_FALSE(again);
  EXPECT_NE(again.err().detail.find("remove it first"), std::string::npos) << again.err().detail;
  EXPECT_EQ(read(dir.path() / "server.key"), "an operator's key");

  testing::temp_dir empty;
  EXPECT_FALSE(write_csr_files("*.example.com", "ecdsa-p256", empty.path()));
  auto bad_type = write_csr_files("a.example.com", "dsa1024", empty.path());
  ASSERT_FALSE(bad_type);
  EXPECT_NE(bad_type.err().detail.find("rsa2048"), std::string::npos) << bad_type.err().detail;
  EXPECT_TRUE(std::filesystem::is_empty(empty.path())) << "a refused request wrote files";
}

}  // namespace
}  // namespace certfleet::cli
