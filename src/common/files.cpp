#include "tagsmith/common/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>

#include "tagsmith/common/error.h"

namespace tagsmith {
namespace fs = std::filesystem;

std::vector<std::uint8_t> read_file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw Error(fmt::format("cannot read {}", path.string()));
  }
  return bytes;
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
