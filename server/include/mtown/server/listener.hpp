// Accepts TCP connections and starts an HttpSession for each, on a strand of its own.
#pragma once
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

#include "mtown/server/server_context.hpp"

namespace mtown::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, ServerContext& ctx);
  // Throws boost::system::system_error when the address cannot be bound.
  void open(const net::ip::tcp::endpoint& endpoint);
  net::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();
  void stop();  // thread-safe

 private:
  void do_accept();
  void on_accept(boost::beast::error_code ec, net::ip::tcp::socket socket);

  net::io_context& ioc_;
  ServerContext& ctx_;
  net::ip::tcp::acceptor acceptor_;
};

}  // namespace mtown::server
