#include "mtown/server/stream.hpp"

#include <sys/socket.h>

#include <fstream>
#include <stdexcept>

#include "mtown/server/send_batch.hpp"

namespace mtown::server {
namespace {

std::variant<Stream::Plain, Stream::Tls> make(net::ip::tcp::socket&& socket, net::ssl::context* tls) {
  if (!tls) return Stream::Plain(std::move(socket));
  return Stream::Tls(Stream::Plain(std::move(socket)), *tls);
}

void require_readable(const std::string& key, const std::string& path) {
  if (!std::ifstream(path)) throw std::runtime_error(key + ": cannot read " + path);
}

}  // namespace

Stream::Stream(net::ip::tcp::socket&& socket, net::ssl::context* tls)
    : stream_(make(std::move(socket), tls)), executor_(tcp().get_executor()) {}

std::size_t Stream::send_now(const ::iovec* iov, int count, boost::system::error_code& ec) {
  ::msghdr msg{};
  msg.msg_iov = const_cast<::iovec*>(iov);
  msg.msg_iovlen = static_cast<std::size_t>(count);
  return send_nonblocking(native_handle(), msg, ec);
}

bool Stream::read_through(const std::shared_ptr<core::RecvRing>& ring, std::size_t max_unread) {
  if (!direct() || ring_watch_) return false;
  boost::system::error_code ec;
  const auto local = socket().local_endpoint(ec);
  if (ec) return false;
  ring_watch_ = RingWatch::start(ring, socket().native_handle(), max_unread);
  if (!ring_watch_) return false;
  protocol_ = local.protocol();
  detach();
  return true;
}

void Stream::detach() {
  if (!ring_watch_ || detached_ || beast_writes_ > 0 || !rest_.empty()) return;
  boost::system::error_code ec;
  const int fd = socket().release(ec);  // no operation of the reactor's is pending: none is cancelled
  if (!ec) detached_.own(fd);
}

void Stream::attach() {
  if (!detached_) return;
  boost::system::error_code ec;
  socket().assign(protocol_, detached_.get(), ec);
  if (ec) {  // the reactor refused it (out of memory): the connection ends
    ring_watch_.reset();
    detached_.reset();
    return;
  }
  detached_.release();
}

std::unique_ptr<net::ssl::context> make_tls_context(const std::string& cert_file, const std::string& key_file) {
  require_readable("tls.cert_file", cert_file);
  require_readable("tls.key_file", key_file);
  auto ctx = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
  ctx->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                   net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) throw std::runtime_error("tls.cert_file: " + cert_file + " is not a PEM certificate: " + ec.message());
  // OpenSSL also checks here that the key belongs to the certificate.
  ctx->use_private_key_file(key_file, net::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("tls.key_file: " + key_file + " is not the certificate's PEM private key: " + ec.message());
  return ctx;
}

}  // namespace mtown::server
