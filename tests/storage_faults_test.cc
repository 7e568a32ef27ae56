// Storage faults are answered, never silently absorbed: a damaged write-ahead log fails Open with
// an error naming its files (or, when the host opts in, opens with the records before the damage
// and says what was lost), a cleanly closed store does not depend on its write-ahead log, and a
// full disk is an error on the write and on Open, never an abort, while reads go on.
//
// The store is written by a child process that ends without closing it (as a crash would), so
// its write-ahead log holds the acknowledged events; the disk-full test runs the engine in a child
// on a small tmpfs mounted in a mount namespace of its own.
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/mutex.h"  // OMNIJOURNEY_TSAN
#include "engine_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace omnijourney {
namespace {

using ::testing::HasSubstr;
using testing::Ev;
using testing::Durable;
using testing::FreshDir;

Ev Customer(int i, const std::string& text = "") {
  return Ev(absl::StrCat("e", i), i, v1::EVENT_KIND_MESSAGE, "Message Received")
      .Id("email", absl::StrCat("c", i, "@example.com"))
      .In(v1::CHANNEL_CHAT)
      .Text(text.empty() ? absl::StrCat("message ", i) : text);
}

// A child process ingests `n` events, one call each (every one acknowledged), and ends without
// closing the store. Returns whether it succeeded.
bool IngestAndCrash(const std::string& dir, int n) {
  const pid_t pid = fork();
  if (pid == 0) {
    auto engine = Engine::Open(Durable(dir));
    if (!engine.ok()) _exit(2);
    for (int i = 0; i < n; ++i) {
      if (!(*engine)->Ingest(Customer(i)).ok()) _exit(3);
    }
    _exit(0);  // No destructor: the store is not closed.
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string OnlyWal(const std::string& dir) {
  std::string wal;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log" && std::filesystem::file_size(entry.path()) > 0) {
      wal = entry.path().string();
    }
  }
  return wal;
}

TEST(StorageFaultsTest, FlippedBytesInTheWriteAheadLogFailOpenNamingTheFile) {
#ifdef OMNIJOURNEY_TSAN
  GTEST_SKIP() << "forks a process with threads (RocksDB's), which ThreadSanitizer does not support";
#endif
  const std::string dir = FreshDir("wal_flipped");
  ASSERT_TRUE(IngestAndCrash(dir, 2000));
  const std::string wal = OnlyWal(dir);
  ASSERT_FALSE(wal.empty());
  {
    std::fstream f(wal, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = static_cast<std::streamoff>(std::filesystem::file_size(wal));
    for (std::streamoff at : {size / 2, size / 2 + 1}) {
      f.seekg(at);
      char c = 0;
      f.read(&c, 1);
      f.seekp(at);
      c = static_cast<char>(c ^ 0x5a);
      f.write(&c, 1);
    }
  }
  auto refused = Engine::Open(Durable(dir));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(refused.status().message(), HasSubstr(std::filesystem::path(wal).filename().string()));
  EXPECT_THAT(refused.status().message(), HasSubstr("kRecoverToLastConsistentPoint"));
  // Opting in opens the records before the damage, and says so.
  EngineOptions recover = Durable(dir);
  recover.storage.damaged_log = EngineOptions::Storage::DamagedLog::kRecoverToLastConsistentPoint;
  auto engine = Engine::Open(recover);
  ASSERT_TRUE(engine.ok()) << engine.status();
  const EngineStats stats = (*engine)->Stats();
  EXPECT_LT(stats.events, 2000);
  EXPECT_GT(stats.events, 0);
  EXPECT_THAT(stats.storage_recovery, HasSubstr("damaged"));
  EXPECT_TRUE((*engine)->Context({"", "email", "c0@example.com"}).ok());
  engine->reset();
  std::filesystem::remove_all(dir);
}

// A cleanly closed store keeps nothing in its write-ahead log, so a damage to the log file later
// loses nothing.
TEST(StorageFaultsTest, TruncatedWriteAheadLogOfACleanlyClosedStoreLosesNothing) {
  const std::string dir = FreshDir("wal_truncated");
  {
    auto engine = testing::Open(Durable(dir));
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(engine->Ingest(Customer(i)).ok());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".log") {
      std::filesystem::resize_file(entry.path(), std::filesystem::file_size(entry.path()) / 2);
    }
  }
  auto engine = testing::Open(Durable(dir));
  ASSERT_NE(engine, nullptr);
  EXPECT_EQ(engine->Stats().events, 2000);
  EXPECT_EQ(engine->Stats().storage_recovery, "");
  std::filesystem::remove_all(dir);
}

// Runs `body` in a child process whose mount namespace has a tmpfs of `megabytes` at `dir`.
// Returns the child's exit status (0: `body` returned 0), or -1 when the namespace or mount was
// refused (the test is then skipped).
int InSmallFilesystem(const std::string& dir, int megabytes, const std::function<int()>& body) {
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(pipe_fds[0]);
    const uid_t uid = geteuid();
    const gid_t gid = getegid();
    bool ok = unshare(uid == 0 ? CLONE_NEWNS : CLONE_NEWUSER | CLONE_NEWNS) == 0;
    if (ok && uid != 0) {
      std::ofstream("/proc/self/setgroups") << "deny";
      std::ofstream("/proc/self/uid_map") << "0 " << uid << " 1";
      std::ofstream("/proc/self/gid_map") << "0 " << gid << " 1";
    }
    ok = ok && mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0;
    std::filesystem::create_directories(dir);
    const std::string size = absl::StrCat("size=", megabytes, "m");
    ok = ok && mount("tmpfs", dir.c_str(), "tmpfs", 0, size.c_str()) == 0;
    const char mounted = ok ? 1 : 0;
    (void)!write(pipe_fds[1], &mounted, 1);
    close(pipe_fds[1]);
    if (!ok) _exit(0);
    _exit(body());
  }
  close(pipe_fds[1]);
  char mounted = 0;
  const bool got = read(pipe_fds[0], &mounted, 1) == 1;
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!got || mounted == 0) return -1;
  if (WIFSIGNALED(status)) return 1000 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 999;
}

TEST(StorageFaultsTest, DiskFullIsAnErrorOnWriteAndOpenNeverAnAbort) {
#ifdef OMNIJOURNEY_TSAN
  GTEST_SKIP() << "forks a process with threads (RocksDB's), which ThreadSanitizer does not support";
#endif
  const std::string dir = FreshDir("disk_full");
  const int result = InSmallFilesystem(dir, 8, [&]() -> int {
    const std::string store = dir + "/store";
    const std::string filler = dir + "/filler";
    {
      std::ofstream f(filler, std::ios::binary);
      f << std::string(1 << 20, 'x');  // Freed at the end, so that the store can open again.
    }
    int acknowledged = 0;
    {
      auto engine = Engine::Open(Durable(store));
      if (!engine.ok()) return 10;
      const std::string text(4000, 't');
      absl::Status failed;
      for (int i = 0; i < 20000 && failed.ok(); ++i) {
        auto r = (*engine)->Ingest(Customer(i, absl::StrCat(text, i)));
        if (r.ok()) {
          ++acknowledged;
        } else {
          failed = r.status();
        }
      }
      if (failed.ok()) return 11;  // The disk never filled.
      std::fprintf(stderr, "write failed after %d events: %s\n", acknowledged, failed.ToString().c_str());
      if (failed.message().find("space") == std::string::npos) return 12;
      // Reads go on.
      if (!(*engine)->Context({"", "email", "c0@example.com"}).ok()) return 13;
      if (!(*engine)->Context({"", "email", absl::StrCat("c", acknowledged - 1, "@example.com")}).ok()) return 14;
    }  // Closing on a full disk.
    {
      auto again = Engine::Open(Durable(store));
      std::fprintf(stderr, "open on the full disk: %s\n", again.ok() ? "ok" : again.status().ToString().c_str());
      if (!again.ok() && again.status().code() == absl::StatusCode::kOk) return 15;
    }
    std::filesystem::remove(filler);
    auto engine = Engine::Open(Durable(store));
    if (!engine.ok()) {
      std::fprintf(stderr, "open after freeing space: %s\n", engine.status().ToString().c_str());
      return 16;
    }
    if ((*engine)->Stats().events < acknowledged) return 17;  // An acknowledged event was lost.
    for (int i : {0, acknowledged / 2, acknowledged - 1}) {
      if (!(*engine)->Context({"", "email", absl::StrCat("c", i, "@example.com")}).ok()) return 18;
    }
    return 0;
  });
  if (result == -1) GTEST_SKIP() << "no mount namespace for a small filesystem here";
  EXPECT_EQ(result, 0) << "1000 + n: killed by signal n; 10-18: see the test";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace omnijourney
