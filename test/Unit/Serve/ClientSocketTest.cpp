//===- ClientSocketTest.cpp - Finding a connection's socket by address ----===//
//
// Real loopback TCP connections inside the test process: both ends are
// the process's sockets, so the finder must pick the server side by its
// addresses, notice the peer's FIN and RST, and say Unknown (never Gone)
// when it is not sure.
//
//===----------------------------------------------------------------------===//

#include "ClientSocket.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

using namespace anvil::serve;

namespace {

/// A listener, a client connected to it and the accepted server side,
/// with the addresses cpp-httplib would give the handler.
struct Connection {
  int listener = -1, client = -1, server = -1;
  std::string localAddr, remoteAddr;
  int localPort = -1, remotePort = -1;

  ~Connection() {
    for (int fd : {listener, client, server})
      if (fd >= 0)
        close(fd);
  }

  /// False if the family is unavailable here (no IPv6 loopback).
  bool open(int family) {
    sockaddr_storage address{};
    socklen_t size;
    if (family == AF_INET) {
      auto &in = reinterpret_cast<sockaddr_in &>(address);
      in.sin_family = AF_INET;
      in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      size = sizeof in;
    } else {
      auto &in6 = reinterpret_cast<sockaddr_in6 &>(address);
      in6.sin6_family = AF_INET6;
      in6.sin6_addr = in6addr_loopback;
      size = sizeof in6;
    }
    listener = socket(family, SOCK_STREAM, 0);
    if (listener < 0 ||
        bind(listener, reinterpret_cast<sockaddr *>(&address), size) != 0 ||
        listen(listener, 4) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr *>(&address), &size) !=
            0)
      return false;
    client = socket(family, SOCK_STREAM, 0);
    if (client < 0 ||
        connect(client, reinterpret_cast<sockaddr *>(&address), size) != 0)
      return false;
    server = accept(listener, nullptr, nullptr);
    if (server < 0)
      return false;
    describe(server, false, localAddr, localPort);
    describe(server, true, remoteAddr, remotePort);
    return true;
  }

  static void describe(int fd, bool peer, std::string &ip, int &port) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    auto *any = reinterpret_cast<sockaddr *>(&address);
    ASSERT_EQ(peer ? getpeername(fd, any, &size) : getsockname(fd, any, &size),
              0);
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET) {
      auto &in = reinterpret_cast<sockaddr_in &>(address);
      inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
      port = ntohs(in.sin_port);
    } else {
      auto &in6 = reinterpret_cast<sockaddr_in6 &>(address);
      inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
      port = ntohs(in6.sin6_port);
    }
    ip = text;
  }

  ClientSocket finder() const {
    return ClientSocket(localAddr, localPort, remoteAddr, remotePort);
  }
};

/// The state once the kernel has delivered what the peer did (loopback:
/// at once, but bounded anyway).
ClientSocket::State settle(ClientSocket &socket, ClientSocket::State want) {
  ClientSocket::State state = socket.state();
  for (int i = 0; i < 100 && state != want; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    state = socket.state();
  }
  return state;
}

} // namespace

TEST(ClientSocket, FindsTheServerSideAndSeesAClose) {
  Connection connection;
  ASSERT_TRUE(connection.open(AF_INET));
  ClientSocket socket = connection.finder();
  EXPECT_EQ(socket.state(), ClientSocket::State::Open);
  // Not the client's end, which has the same two addresses swapped.
  EXPECT_EQ(socket.fd(), connection.server);
  EXPECT_FALSE(socket.clientGone());

  // Bytes of a next request are not a hang-up.
  ASSERT_EQ(send(connection.client, "GET", 3, 0), 3);
  EXPECT_EQ(settle(socket, ClientSocket::State::Open),
            ClientSocket::State::Open);

  close(connection.client);
  connection.client = -1;
  EXPECT_EQ(settle(socket, ClientSocket::State::Gone),
            ClientSocket::State::Gone);
  EXPECT_TRUE(socket.clientGone());
}

TEST(ClientSocket, SeesAReset) {
  Connection connection;
  ASSERT_TRUE(connection.open(AF_INET));
  ClientSocket socket = connection.finder();
  ASSERT_EQ(socket.state(), ClientSocket::State::Open);
  // SO_LINGER 0: close sends a RST, after which the server side is no
  // longer connected at all.
  linger abort{1, 0};
  ASSERT_EQ(setsockopt(connection.client, SOL_SOCKET, SO_LINGER, &abort,
                       sizeof abort),
            0);
  close(connection.client);
  connection.client = -1;
  EXPECT_EQ(settle(socket, ClientSocket::State::Gone),
            ClientSocket::State::Gone);
}

TEST(ClientSocket, Ipv6) {
  Connection connection;
  if (!connection.open(AF_INET6))
    GTEST_SKIP() << "no IPv6 loopback here";
  ClientSocket socket = connection.finder();
  EXPECT_EQ(socket.state(), ClientSocket::State::Open);
  EXPECT_EQ(socket.fd(), connection.server);
  shutdown(connection.client, SHUT_WR);
  EXPECT_EQ(settle(socket, ClientSocket::State::Gone),
            ClientSocket::State::Gone);
}

TEST(ClientSocket, UnknownWhenNotFound) {
  Connection connection;
  ASSERT_TRUE(connection.open(AF_INET));
  // Another peer port, another address, nonsense: never Gone.
  ClientSocket otherPort(connection.localAddr, connection.localPort,
                         connection.remoteAddr, connection.remotePort ^ 1);
  EXPECT_EQ(otherPort.state(), ClientSocket::State::Unknown);
  ClientSocket otherAddress(connection.localAddr, connection.localPort,
                            "127.0.0.2", connection.remotePort);
  EXPECT_EQ(otherAddress.state(), ClientSocket::State::Unknown);
  ClientSocket nonsense("", -1, "not an address", 0);
  EXPECT_EQ(nonsense.state(), ClientSocket::State::Unknown);
  EXPECT_FALSE(nonsense.clientGone());
}

TEST(ClientSocket, ReusedDescriptorIsUnknown) {
  Connection connection;
  ASSERT_TRUE(connection.open(AF_INET));
  ClientSocket socket = connection.finder();
  ASSERT_EQ(socket.state(), ClientSocket::State::Open);
  int number = connection.server;

  // The descriptor number now names another connection (one whose client
  // has already gone): the finder must not report on it.
  Connection other;
  ASSERT_TRUE(other.open(AF_INET));
  close(other.client);
  other.client = -1;
  ASSERT_EQ(dup2(other.server, number), number);
  EXPECT_EQ(socket.state(), ClientSocket::State::Unknown);
  EXPECT_FALSE(socket.clientGone());
}
