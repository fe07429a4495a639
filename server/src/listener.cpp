#include "mtown/server/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "mtown/core/log.hpp"
#include "mtown/server/http_session.hpp"

namespace mtown::server {

Listener::Listener(net::io_context& ioc, ServerContext& ctx, int io_threads)
    : ioc_(ioc), ctx_(ctx), one_thread_(io_threads == 1), acceptor_(net::make_strand(ioc)) {}

void Listener::open(const net::ip::tcp::endpoint& endpoint) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
}

void Listener::start() { do_accept(); }

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::beast::error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void Listener::do_accept() {
  const auto executor = one_thread_ ? net::any_io_executor(ioc_.get_executor()) : net::any_io_executor(net::make_strand(ioc_));
  acceptor_.async_accept(executor,
                         [self = shared_from_this()](boost::beast::error_code ec, net::ip::tcp::socket socket) {
                           self->on_accept(ec, std::move(socket));
                         });
}

void Listener::on_accept(boost::beast::error_code ec, net::ip::tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors and the like: log, keep accepting (the next one may succeed).
    core::log_warn("accept_failed", {{"error", ec.message()}});
  } else {
    socket.set_option(net::ip::tcp::no_delay(true), ec);
    std::make_shared<HttpSession>(std::move(socket), ctx_)->run();
  }
  do_accept();
}

}  // namespace mtown::server
