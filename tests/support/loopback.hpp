// A loopback TCP connection for tests of code that works on Asio sockets: `client` connects
// (open it first to set options that must precede the connection) and the accepted side
// is returned. And a bounded wait for a condition on an io_context.
#pragma once
#include <chrono>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace mtown::test {

inline boost::asio::ip::tcp::socket accept_loopback(boost::asio::io_context& ioc, boost::asio::ip::tcp::socket& client) {
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::address_v4::loopback(), 0});
  client.connect(acceptor.local_endpoint());
  boost::asio::ip::tcp::socket accepted(ioc);
  acceptor.accept(accepted);
  return accepted;
}

// Runs handlers one at a time until `done` or 5 s.
inline void run_until(boost::asio::io_context& ioc, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) ioc.run_one_for(std::chrono::milliseconds(10));
}

}  // namespace mtown::test
