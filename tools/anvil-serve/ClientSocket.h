//===- ClientSocket.h - Is a handler's client still there? -----*- C++ -*-===//
//
// cpp-httplib 0.11 gives a handler neither its connection's socket nor a
// way to ask whether the client has gone (newer versions have
// Request::is_connection_closed). A non-streaming handler that waits for
// the whole answer would otherwise never notice a client that left, and
// its request would run to max_tokens. What the handler does get is the
// connection's addresses (Request::local_addr/local_port and
// remote_addr/remote_port); a TCP connection is the only socket of the
// process with that local and peer address, so ClientSocket finds it among
// the process's descriptors and then watches it.
//
// A client that shuts down only its sending side (a FIN after the
// request) reads as Gone: HTTP clients that wait for an answer keep the
// connection open.
//
// It answers Unknown whenever it is not sure (no socket matches, more than
// one does, the descriptor no longer is the socket it found); a caller
// must treat Unknown as "still there" and never cancel on it.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_CLIENTSOCKET_H
#define ANVIL_TOOLS_ANVIL_SERVE_CLIENTSOCKET_H

#include <cstdint>
#include <string>

namespace anvil::serve {

class ClientSocket {
public:
  enum class State {
    /// The connection is open (the client may have sent more bytes).
    Open,
    /// The client closed or reset the connection (a FIN, a RST, an error).
    Gone,
    /// The socket was not found, or is no longer the one found.
    Unknown,
  };

  /// The server side of the TCP connection from `remoteAddr`:`remotePort`
  /// to `localAddr`:`localPort` (numeric IPv4 or IPv6 addresses, as
  /// cpp-httplib writes them). Nothing is searched until state().
  ClientSocket(std::string localAddr, int localPort, std::string remoteAddr,
               int remotePort);

  /// Finds the socket on the first call (one scan of the process's
  /// descriptors), then re-checks on each call that the descriptor is
  /// still that socket before looking at it: a descriptor closed
  /// elsewhere can be reused for another connection.
  State state();
  /// state() == Gone: the caller may cancel the client's work.
  bool clientGone() { return state() == State::Gone; }
  /// The descriptor found, or -1 (for tests).
  int fd() const { return found; }

private:
  /// A numeric address as 16 bytes (IPv4 as IPv4-mapped IPv6), so that
  /// both families, and IPv4-mapped peers of an IPv6 listener, compare
  /// alike; false if `text` is not a numeric address.
  struct Address {
    uint8_t bytes[16] = {};
    int port = -1;
  };
  static bool parse(const std::string &text, int port, Address &out);

  /// Whether `fd` is a TCP socket whose local and peer addresses are the
  /// ones looked for.
  bool matches(int fd) const;
  /// The one descriptor that matches (and its socket's inode), or -1 if
  /// none or several do.
  int search(uint64_t &matchInode) const;

  bool valid = false;
  Address local, remote;
  bool searched = false;
  int found = -1;
  /// The socket's inode when found: the reuse guard's second check.
  uint64_t inode = 0;
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_CLIENTSOCKET_H
