// Accepts TCP connections and starts an HttpSession for each, on a strand of its own (with
// one io thread, on the io_context itself: nothing runs concurrently there, and a strand
// would only add a queue and a post to every completion).
#pragma once
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>

#include "mtown/server/server_context.hpp"

namespace mtown::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, ServerContext& ctx, int io_threads);
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
  bool one_thread_;
  net::ip::tcp::acceptor acceptor_;
};

}  // namespace mtown::server
