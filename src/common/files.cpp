#include "tagsmith/common/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "tagsmith/common/error.h"

namespace tagsmith {
namespace fs = std::filesystem;

namespace {

// Closes a descriptor on every path out.
struct FileDescriptor {
  int fd;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

const char* kind_of(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  return "a special file";
}

// Reads until end of file. The size stat reports is only a hint for the first
// allocation: /proc and sysfs files report 0 (or 4096), a growing file more
// than it had, so the bytes actually read decide, and never more than
// max_bytes + 1 of them are held.
std::vector<std::uint8_t> read_to_end(int fd, const fs::path& path, std::uint64_t size_hint,
                                      std::uint64_t max_bytes) {
  std::vector<std::uint8_t> bytes;
  constexpr std::uint64_t kChunk = 1 << 16;
  bytes.reserve(static_cast<std::size_t>(std::min(size_hint, max_bytes) + 1));
  for (;;) {
    if (bytes.size() > max_bytes) {
      throw FileTooLargeError(
          fmt::format("{} holds more than the limit of {} bytes", path.string(), max_bytes));
    }
    // The whole expected size in one read when the hint is right; a chunk
    // at a time past it.
    const std::uint64_t wanted = std::max<std::uint64_t>(kChunk, bytes.capacity() - bytes.size());
    const std::size_t room =
        static_cast<std::size_t>(std::min<std::uint64_t>(wanted, max_bytes + 1 - bytes.size()));
    const std::size_t at = bytes.size();
    bytes.resize(at + room);
    const ssize_t n = ::read(fd, bytes.data() + at, room);
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) {
        bytes.resize(at);
        continue;
      }
      throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(err)));
    }
    bytes.resize(at + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  return bytes;
}

}  // namespace

std::vector<std::uint8_t> read_file_bytes(const fs::path& path, std::uint64_t max_bytes) {
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    throw Error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw Error(fmt::format("cannot read {}: a directory", path.string()));
  const std::uint64_t hint = S_ISREG(st.st_mode) ? static_cast<std::uint64_t>(st.st_size) : 0;
  return read_to_end(file.fd, path, hint, max_bytes);
}

std::vector<std::uint8_t> read_regular_file_bytes(const fs::path& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer,
  // forever; O_NOCTTY: a terminal device must not become ours. Both only
  // matter until fstat has said what the file is.
  const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)};
  if (file.fd < 0)
    throw Error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  if (!S_ISREG(st.st_mode)) throw NotRegularFileError(not_a_regular_file_reason(st.st_mode));
  const int flags = ::fcntl(file.fd, F_GETFL);
  if (flags < 0 || ::fcntl(file.fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    throw Error(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
  return read_to_end(file.fd, path, static_cast<std::uint64_t>(st.st_size), max_bytes);
}

std::string not_a_regular_file_reason(mode_t mode) {
  return fmt::format("{}, not a regular file: not read", kind_of(mode));
}

std::string read_file_text(const fs::path& path) {
  auto bytes = read_file_bytes(path);
  return {bytes.begin(), bytes.end()};
}

void write_file_atomic(const fs::path& path, std::string_view bytes) {
  fs::create_directories(path.parent_path());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  // The writer's pid is in the name so remove_stale_temporaries() can tell a
  // crashed writer's leftovers from a live writer's work in progress.
  const fs::path tmp = path.parent_path() /
                       fmt::format(".{}.{}.{:x}.tmp", path.filename().string(), ::getpid(), rng());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(fmt::format("cannot create {}: {}", tmp.string(), std::strerror(errno)));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw Error(fmt::format("cannot flush {}", tmp.string()));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    throw Error(
        fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), std::strerror(err)));
  }
}

std::size_t remove_stale_temporaries(const fs::path& dir) {
  std::size_t removed = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (!name.starts_with(".") || !name.ends_with(".tmp")) continue;
    // ".<file>.<pid>.<random>.tmp"
    const auto last = name.rfind('.', name.size() - 5);
    const auto before = last == std::string::npos ? std::string::npos : name.rfind('.', last - 1);
    if (before == std::string::npos) continue;
    const pid_t pid =
        static_cast<pid_t>(std::atol(name.substr(before + 1, last - before - 1).c_str()));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) {
      if (fs::remove(it->path(), ec)) ++removed;
    }
  }
  return removed;
}

}  // namespace tagsmith
