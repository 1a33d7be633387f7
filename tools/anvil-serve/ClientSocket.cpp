//===- ClientSocket.cpp - Whether a handler's client is still there -------===//

#include "ClientSocket.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace anvil::serve {
namespace {

/// `address` (from getsockname/getpeername) as 16 bytes and a port; false
/// for anything but IPv4 and IPv6.
bool fromSockaddr(const sockaddr_storage &address, uint8_t bytes[16],
                  int &port) {
  if (address.ss_family == AF_INET) {
    const auto &in = reinterpret_cast<const sockaddr_in &>(address);
    std::memset(bytes, 0, 10);
    bytes[10] = bytes[11] = 0xff;
    std::memcpy(bytes + 12, &in.sin_addr, 4);
    port = ntohs(in.sin_port);
    return true;
  }
  if (address.ss_family == AF_INET6) {
    const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(address);
    std::memcpy(bytes, &in6.sin6_addr, 16);
    port = ntohs(in6.sin6_port);
    return true;
  }
  return false;
}

/// A socket's inode, or 0 if `fd` is not an open socket.
uint64_t socketInode(int fd) {
  struct stat status;
  if (fstat(fd, &status) != 0 || !S_ISSOCK(status.st_mode))
    return 0;
  return uint64_t(status.st_ino);
}

} // namespace

ClientSocket::ClientSocket(std::string localAddr, int localPort,
                           std::string remoteAddr, int remotePort) {
  valid = parse(localAddr, localPort, local) &&
          parse(remoteAddr, remotePort, remote);
}

bool ClientSocket::parse(const std::string &text, int port, Address &out) {
  if (port <= 0 || port > 65535)
    return false;
  out.port = port;
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    std::memset(out.bytes, 0, 10);
    out.bytes[10] = out.bytes[11] = 0xff;
    std::memcpy(out.bytes + 12, &v4, 4);
    return true;
  }
  // getnameinfo writes a link-local address's scope as "%eth0": the port
  // and the rest of the address tell connections apart without it.
  std::string bare = text.substr(0, text.find('%'));
  return inet_pton(AF_INET6, bare.c_str(), out.bytes) == 1;
}

bool ClientSocket::matches(int fd) const {
  sockaddr_storage address;
  socklen_t size = sizeof address;
  uint8_t bytes[16];
  int port = -1;
  if (getsockname(fd, reinterpret_cast<sockaddr *>(&address), &size) != 0 ||
      !fromSockaddr(address, bytes, port) || port != local.port ||
      std::memcmp(bytes, local.bytes, 16) != 0)
    return false;
  int type = 0;
  socklen_t typeSize = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeSize) != 0 ||
      type != SOCK_STREAM)
    return false;
  size = sizeof address;
  return getpeername(fd, reinterpret_cast<sockaddr *>(&address), &size) == 0 &&
         fromSockaddr(address, bytes, port) && port == remote.port &&
         std::memcmp(bytes, remote.bytes, 16) == 0;
}

int ClientSocket::search(uint64_t &matchInode) const {
  int match = -1, count = 0;
  auto consider = [&](int fd) {
    // The inode before and after: the same socket throughout the checks.
    uint64_t before = socketInode(fd);
    if (before && matches(fd) && socketInode(fd) == before) {
      match = fd;
      matchInode = before;
      ++count;
    }
  };
  if (DIR *dir = opendir("/proc/self/fd")) {
    int own = dirfd(dir);
    while (dirent *entry = readdir(dir)) {
      char *end = nullptr;
      long fd = std::strtol(entry->d_name, &end, 10);
      if (end != entry->d_name && !*end && fd != own)
        consider(int(fd));
    }
    closedir(dir);
  } else {
    // No /proc: try every descriptor the process may have.
    rlimit limit{};
    rlim_t highest = 1024;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
        limit.rlim_cur != RLIM_INFINITY)
      highest = limit.rlim_cur;
    highest = std::min<rlim_t>(highest, 1 << 16);
    for (int fd = 0; fd < int(highest); ++fd)
      consider(fd);
  }
  // Two sockets with one pair of addresses: not a case to guess in.
  return count == 1 ? match : -1;
}

ClientSocket::State ClientSocket::state() {
  if (!valid)
    return State::Unknown;
  if (!searched) {
    searched = true;
    found = search(inode);
  }
  if (found < 0 || !inode)
    return State::Unknown;

  // The reuse guard. Our descriptor stays ours while the handler runs
  // (httplib closes it after the handler returns), but a descriptor
  // number closed and reused would point at another connection: it must
  // still be the same socket (its inode) with the same addresses. A
  // socket that was reset is no longer connected (getpeername: ENOTCONN);
  // its inode still says it is ours, and gone.
  if (socketInode(found) != inode) {
    found = -1;
    return State::Unknown;
  }
  sockaddr_storage peer;
  socklen_t size = sizeof peer;
  if (getpeername(found, reinterpret_cast<sockaddr *>(&peer), &size) != 0) {
    int error = errno;
    return error == ENOTCONN && socketInode(found) == inode ? State::Gone
                                                            : State::Unknown;
  }
  if (!matches(found)) {
    found = -1;
    return State::Unknown;
  }

  pollfd watch{found, POLLIN | POLLRDHUP, 0};
  int ready = poll(&watch, 1, 0);
  if (ready < 0 || (watch.revents & POLLNVAL))
    return State::Unknown;
  if (ready == 0)
    return State::Open;
  // POLLRDHUP: the client shut its side (a FIN); POLLHUP/POLLERR: the
  // connection was reset or failed.
  if (watch.revents & (POLLRDHUP | POLLHUP | POLLERR))
    return State::Gone;
  // Readable without a hang-up: bytes of a next request, or an end of
  // stream poll did not flag; a peek tells them apart.
  char byte;
  ssize_t got = recv(found, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got == 0)
    return State::Gone;
  if (got < 0 && (errno == ECONNRESET || errno == EPIPE || errno == ETIMEDOUT))
    return State::Gone;
  return got > 0 ? State::Open : State::Unknown;
}

} // namespace anvil::serve
