#include "store/snapshot_store.h"

#include <filesystem>

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace omnijourney::internal {
namespace {

constexpr char kPrefix[] = "snapshot-";

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat("snapshot ", absl::string_view(what.data(), what.size()), " '", path,
                                          "': ", std::strerror(errno)));
}

absl::Status SyncDir(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return Errno("open", dir);
  const int rc = fsync(fd);
  close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("sync", dir);
}

}  // namespace

std::string SnapshotStore::PathOf(LogPosition position) const {
  return absl::StrFormat("%s/%s%020d", dir_, kPrefix, position);
}

absl::Status SnapshotStore::Write(LogPosition position, std::string_view bytes) {
  if (mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir_);
  const std::string path = PathOf(position);
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return Errno("create", tmp);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      absl::Status s = Errno("write", tmp);
      close(fd);
      unlink(tmp.c_str());
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) {
    absl::Status s = Errno("sync", tmp);
    close(fd);
    unlink(tmp.c_str());
    return s;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("rename", tmp);
    unlink(tmp.c_str());
    return s;
  }
  return SyncDir(dir_);
}

absl::StatusOr<std::vector<LogPosition>> SnapshotStore::List() const {
  std::vector<LogPosition> out;
  DIR* dir = opendir(dir_.c_str());
  if (dir == nullptr) {
    if (errno == ENOENT) return out;
    return Errno("list", dir_);
  }
  while (dirent* e = readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name.size() != sizeof(kPrefix) - 1 + 20 || name.substr(0, sizeof(kPrefix) - 1) != kPrefix) continue;
    uint64_t pos = 0;
    const std::string_view digits = name.substr(sizeof(kPrefix) - 1);
    if (absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &pos)) out.push_back(pos);
  }
  closedir(dir);
  std::sort(out.rbegin(), out.rend());
  return out;
}

SnapshotStore::Mapped::~Mapped() {
  if (data_ != nullptr && size_ > 0) munmap(const_cast<char*>(data_), size_);
}

absl::StatusOr<SnapshotStore::Mapped> SnapshotStore::Read(LogPosition position) const {
  const std::string path = PathOf(position);
  const int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) return Errno("open", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    absl::Status s = Errno("stat", path);
    close(fd);
    return s;
  }
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    close(fd);
    return Mapped(nullptr, 0);
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return Errno("map", path);
  madvise(p, size, MADV_SEQUENTIAL);
  return Mapped(static_cast<char*>(p), size);
}

absl::Status SnapshotStore::DeleteUnfinished() {
  std::error_code ec;
  if (!std::filesystem::exists(dir_, ec)) return absl::OkStatus();
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() != ".tmp") continue;
    if (unlink(entry.path().c_str()) != 0 && errno != ENOENT) return Errno("delete", entry.path().string());
  }
  if (ec) return absl::UnavailableError(absl::StrCat("snapshots '", dir_, "': ", ec.message()));
  return absl::OkStatus();
}

absl::Status SnapshotStore::DeleteBefore(LogPosition position, size_t keep) {
  absl::StatusOr<std::vector<LogPosition>> all = List();
  if (!all.ok()) return all.status();
  size_t kept = 0;
  for (LogPosition p : *all) {  // Newest first.
    if (p >= position) continue;
    if (kept < keep) {
      ++kept;
      continue;
    }
    if (unlink(PathOf(p).c_str()) != 0 && errno != ENOENT) return Errno("delete", PathOf(p));
  }
  return absl::OkStatus();
}

}  // namespace omnijourney::internal
