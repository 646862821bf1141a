//! A listening TCP socket in the port's SO_REUSEPORT group, for the node:http front: Node 20's
//! `server.listen()` has no `reusePort`, but it adopts a listening descriptor (`listen({ fd })`), so every
//! lane gets its own socket in the group and the kernel balances connections across lanes, as for uWS.

use std::net::{IpAddr, SocketAddr};

/// Binds `host:port` (an IPv4 or IPv6 literal, brackets allowed) with SO_REUSEADDR and SO_REUSEPORT,
/// listens with `backlog` and returns the non-blocking, close-on-exec descriptor; the caller owns it.
#[cfg(unix)]
pub fn listen(host: &str, port: u16, backlog: i32) -> Result<i32, String> {
  use socket2::{Domain, Protocol, Socket, Type};
  use std::os::fd::IntoRawFd;

  let addr = address(host, port)?;
  let fail = |what: &str, e: std::io::Error| format!("{what} {addr}: {e}");
  // Socket::new sets close-on-exec on Unix.
  let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))
    .map_err(|e| fail("socket for", e))?;
  socket.set_reuse_address(true).map_err(|e| fail("SO_REUSEADDR on", e))?;
  socket.set_reuse_port(true).map_err(|e| fail("SO_REUSEPORT on", e))?;
  if addr.is_ipv6() {
    // Dual stack, as libuv makes an IPv6 listener (so "::" also takes IPv4 connections).
    socket.set_only_v6(false).map_err(|e| fail("IPV6_V6ONLY on", e))?;
  }
  socket.set_nonblocking(true).map_err(|e| fail("O_NONBLOCK on", e))?;
  socket.bind(&addr.into()).map_err(|e| fail("bind", e))?;
  socket.listen(backlog).map_err(|e| fail("listen on", e))?;
  Ok(socket.into_raw_fd())
}

#[cfg(not(unix))]
pub fn listen(host: &str, port: u16, _backlog: i32) -> Result<i32, String> {
  address(host, port)?;
  Err("SO_REUSEPORT listeners are built on Unix only".to_string())
}

fn address(host: &str, port: u16) -> Result<SocketAddr, String> {
  let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
  let ip: IpAddr = literal.parse().map_err(|_| format!("{host} is not an IP address"))?;
  Ok(SocketAddr::new(ip, port))
}

